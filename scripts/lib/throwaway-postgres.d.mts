export interface ThrowawayPostgres {
  /** postgres://hunch@127.0.0.1:PORT/hunch */
  url: string;
  port: number;
  dir: string;
  postmasterPid(): number;
  kill(): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}
export function findPostgresBin(): string;
export function startThrowawayPostgres(options?: { log?: (line: string) => void }): Promise<ThrowawayPostgres>;
