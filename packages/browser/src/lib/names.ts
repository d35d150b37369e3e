/** Where Hunch keeps things on the shopper's device: one place, so that forget() misses none. */
export const DB_NAME = 'hunch';
export const SESSION_KEY = 'hunch.session';
/** localStorage: the backend a warm-up race picked for a model version on this device (not personal data, but erased too). */
export const BACKEND_KEY = 'hunch.backend';
/** localStorage: the shopper's anonymous id for experiments (a random UUID), only with personalization_storage consent. */
export const SHOPPER_KEY = 'hunch.shopper';
/** localStorage: each strategy's decisions this session and today, for its frequency caps (only with personalization_storage consent). */
export const STRATEGIES_KEY = 'hunch.strategies';
