import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useWasmBackend } from '../src/backend.js';
import { Rng } from '../src/lib/prng.js';
import type { GPT2Config } from '../src/model.js';
import { nextItemShapes } from '../src/next-item/heads.js';
import { ParamLayout } from '../src/next-item/param-layout.js';
import { NextItemScorer } from '../src/next-item/scorer.js';

beforeAll(() => useWasmBackend());

describe('NextItemScorer', () => {
  it.each([
    ['dot-product', 0],
    ['cosine', 4],
  ])('ranks targets (with the repeat bonus) exactly as dense full-vocabulary scores do (%s)', (_, cosineScale) => {
    const config: GPT2Config = { vocabSize: 30, nPositions: 6, nEmbd: 8, nLayer: 1, nHead: 2, layerNormEpsilon: 1e-5 };
    const layout = new ParamLayout(nextItemShapes(config, { itemBias: true, repeat: true, cosineScale }));
    const rng = new Rng(3);
    const flat = Float32Array.from({ length: layout.size }, () => rng.normal() * 0.5);
    layout.view(flat, 'hunch.repeat.bias')[0] = 1.5; // a strong bonus, so it changes ranks
    if (cosineScale) layout.view(flat, 'hunch.cosine.scale')[0] = cosineScale;
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
    if (cosineScale) {
      // Cosine scores ignore embedding norms: rescaling rows changes nothing, and no
      // score (bias and bonus aside) exceeds the scale.
      const wte = layout.view(flat, 'transformer.wte.weight');
      for (let i = 0; i < wte.length; i++) wte[i] = wte[i]! * (1 + Math.floor(i / 8) % 5);
      const rescaled = new NextItemScorer(config, layout.toTensorMap(flat), isItem);
      const again = rescaled.scorePrefixes([[1, 5, 9, 5]]);
      for (let i = 3; i < 30; i++) expect(again[i]!).toBeCloseTo(last[i]!, 4);
      rescaled.dispose();
      const plain = new ParamLayout(nextItemShapes(config, { itemBias: false, repeat: false, cosineScale }));
      const plainFlat = Float32Array.from({ length: plain.size }, () => rng.normal() + 0.1);
      plain.view(plainFlat, 'hunch.cosine.scale')[0] = cosineScale;
      const bare = new NextItemScorer(config, plain.toTensorMap(plainFlat), isItem);
      const scores = Array.from(bare.scorePrefixes([[1, 7, 8]]).subarray(3));
      expect(Math.max(...scores.map(Math.abs))).toBeLessThanOrEqual(cosineScale + 1e-4);
      expect(Math.max(...scores.map(Math.abs))).toBeGreaterThan(cosineScale / 10);
      bare.dispose();
    }
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
