import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useWasmBackend } from '../src/backend.js';
import { Rng } from '../src/lib/prng.js';
import type { GPT2Config } from '../src/model.js';
import { NextItemScorer, ParamLayout, nextItemShapes } from '../src/next-item.js';

beforeAll(() => useWasmBackend());

describe('NextItemScorer', () => {
  it('ranks targets (with the repeat bonus) exactly as dense full-vocabulary scores do', () => {
    const config: GPT2Config = { vocabSize: 30, nPositions: 6, nEmbd: 8, nLayer: 1, nHead: 2, layerNormEpsilon: 1e-5 };
    const layout = new ParamLayout(nextItemShapes(config, { itemBias: true, repeat: true }));
    const rng = new Rng(3);
    const flat = Float32Array.from({ length: layout.size }, () => rng.normal() * 0.5);
    layout.view(flat, 'hunch.repeat.bias')[0] = 1.5; // a strong bonus, so it changes ranks
    const isItem = Uint8Array.from({ length: 30 }, (_, i) => (i >= 3 ? 1 : 0));
    const scorer = new NextItemScorer(config, layout.toTensorMap(flat), isItem);
    const sessions = [[1, 5, 9, 5, 12, 9, 7, 5, 20], [1, 4, 4, 8], [1, 29, 3]];
    const rows: number[][] = [];
    const positions: number[][] = [];
    const targets: number[] = [];
    for (const s of sessions) {
      const row = s.slice(0, 6);
      const ps: number[] = [];
      for (let t = 1; t < row.length && t + 1 < s.length; t++) {
        ps.push(t);
        targets.push(s[t + 1]!);
      }
      rows.push(row);
      positions.push(ps);
    }
    const dense = scorer.scoreAt(rows, positions).arraySync() as number[][];
    const expected = targets.map((y, m) => dense[m]!.filter((v) => v > dense[m]![y]!).length);
    expect(Array.from(scorer.rankTargets(rows, positions, targets))).toEqual(expected);
    // The scored prefixes API agrees with scoreAt at the last position.
    const last = scorer.scorePrefixes([[1, 5, 9, 5]]);
    const ref = scorer.scoreAt([[1, 5, 9, 5]], [[3]]).dataSync();
    expect(Array.from(last)).toEqual(Array.from(ref));
    const metrics = scorer.evaluate(sessions, { k: 5 });
    expect(metrics.examples).toBe(targets.length + 2); // the 9-token session has 2 positions past the context
    // Scoring holds no tensors beyond the call: a benchmark scores ~1,000 batches of [64, 43k].
    const before = tf.memory().numTensors;
    scorer.scorePrefixes([[1, 5, 9], [1, 4]]);
    expect(tf.memory().numTensors).toBe(before);
    scorer.dispose();
  });

  it('evaluate() equals brute-force full ranking on many sessions with repeats (float32 ties included)', () => {
    const config: GPT2Config = { vocabSize: 203, nPositions: 10, nEmbd: 16, nLayer: 1, nHead: 2, layerNormEpsilon: 1e-5 };
    const layout = new ParamLayout(nextItemShapes(config, { itemBias: true, repeat: true }));
    const rng = new Rng(8);
    const flat = Float32Array.from({ length: layout.size }, () => rng.normal() * 0.3);
    layout.view(flat, 'hunch.repeat.bias')[0] = 2;
    const isItem = Uint8Array.from({ length: 203 }, (_, i) => (i >= 3 ? 1 : 0));
    const scorer = new NextItemScorer(config, layout.toTensorMap(flat), isItem);
    const sessions: number[][] = [];
    for (let n = 0; n < 60; n++) {
      const s = [1];
      const len = 2 + rng.int(12);
      while (s.length < len) s.push(rng.next() < 0.4 && s.length > 1 ? s[1 + rng.int(s.length - 1)]! : 3 + rng.int(200));
      sessions.push(s);
    }
    for (const excludeSeen of [false, true]) {
      let hits = 0;
      let rr = 0;
      let examples = 0;
      for (const s of sessions) {
        for (let t = 1; t < s.length - 1; t++) {
          const row = s.slice(Math.max(0, t + 1 - 10), t + 1);
          const scores = scorer.scoreAt([row], [[row.length - 1]]).dataSync();
          const y = s[t + 1]!;
          const seen = new Set(row);
          let rank = 0;
          for (let c = 0; c < 203; c++) if (scores[c]! > scores[y]! && !(excludeSeen && seen.has(c))) rank++;
          examples++;
          if (rank < 10) {
            hits++;
            rr += 1 / (rank + 1);
          }
        }
      }
      const m = scorer.evaluate(sessions, { k: 10, excludeSeen });
      expect(m.examples).toBe(examples);
      expect(m.hit).toBeCloseTo(hits / examples, 10);
      expect(m.mrr).toBeCloseTo(rr / examples, 10);
    }
    scorer.dispose();
  });
});
