import { createHash } from 'node:crypto';
import { decisionFeatures, ENCODING_VERSION, type CatalogItem, type EventName, type EventParams, type HunchEvent, type PolicyFile } from '@hunch/core';
import { DECISION_FEATURES } from '@hunch/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Consent } from '../src/consent.js';
import type { Intent } from '../src/intent.js';
import { fillTemplate, slotsOf } from '../src/strategies/copy.js';
import { cartMargin, cartOf, decisionContextOf, focusOf, isEligible, situationOf, slotValuesOf } from '../src/strategies/context.js';
import { checkStrategy, type StrategyDeclaration, type StrategyDeclarations } from '../src/strategies/declarations.js';
import { createStrategies, FALLBACK_POLICY, HOLDOUT_POLICY, UNIFORM_POLICY } from '../src/strategies/decide.js';

const item = (id: string, price: number, title = `Title ${id}`): CatalogItem => ({ id, title, url: `https://shop.test/${id}`, category: id.split('-')[0], price });
const catalog = new Map([item('mugs-1', 12, 'Blue Mug'), item('mugs-2', 15), item('teas-1', 8, '<img src=x onerror=alert(1)>'), item('lamps-1', 40)].map((entry) => [entry.id, entry]));
let clock = 0;
const event = (name: EventName, params: EventParams = {}, sessionId = 's1'): HunchEvent => ({ id: `e${clock}`, name, ts: (clock += 1000), sessionId, params });
const add = (item_id: string, quantity = 1, price?: number, sessionId = 's1') =>
  event('add_to_cart', { item_id, items: [{ item_id, quantity, ...(price !== undefined ? { price } : {}) }], ...(price !== undefined ? { value: price * quantity, currency: 'EUR' } : {}) }, sessionId);
const intent = (stage: Intent['stage'], extra: Partial<Intent> = {}): Intent => ({ stage, why: 'test', nextAction: {}, purchaseProbability: null, topCategories: [{ category: 'mugs', score: 1 }], source: 'rules', ...extra });

const NUDGE: StrategyDeclaration = {
  currency: 'EUR',
  freeShippingThreshold: 50,
  cap: { perSession: 2, perDay: 3 },
  exclude: { categories: ['lamps'] },
  actions: [
    { id: 'remind', kind: 'message', copy: 'Still thinking about {title}?', when: { stages: ['at_risk_of_leaving'], minCartItems: 1 } },
    { id: 'free-shipping', kind: 'message', copy: '{left_to_free_shipping} to free shipping', when: { withinFreeShipping: 20 }, meter: 'free_shipping' },
    { id: 'discount', kind: 'incentive', copy: '10% off {category}', cost: 2, when: { minCartItems: 1 } },
  ],
};

describe('declarations', () => {
  it('appends none, and refuses unknown slots, free-shipping slots without a threshold, duplicates', () => {
    const checked = checkStrategy('cart-nudge', NUDGE);
    expect(checked.ok && checked.actions.map((action) => action.id)).toEqual(['remind', 'free-shipping', 'discount', 'none']);
    expect(checkStrategy('x', { actions: [{ id: 'a', kind: 'message', copy: 'Hi {titel}' }] })).toEqual({ ok: false, error: expect.stringContaining('{titel}') });
    expect(checkStrategy('x', { actions: [{ id: 'a', kind: 'message', copy: '{left_to_free_shipping} left' }] })).toEqual({ ok: false, error: expect.stringContaining('freeShippingThreshold') });
    expect(checkStrategy('x', { actions: [{ id: 'a', kind: 'message', copy: 'a' }, { id: 'a', kind: 'message', copy: 'b' }] }).ok).toBe(false);
    expect(checkStrategy('x', { actions: [{ id: 'none', kind: 'message', copy: 'b' }] }).ok).toBe(false);
    expect(checkStrategy('x', { actions: [{ id: 'a', kind: 'message' }] }).ok).toBe(false);
  });
});

/** An incentive costing 3 € under a minimum margin of 2 € at 25 % (mugs 25 %, unless a test overrides it). */
const MARGINED: StrategyDeclaration = {
  margin: { rate: 0.25, min: 2 },
  actions: [
    { id: 'discount', kind: 'incentive', copy: '3 € off', cost: 3, when: { minCartItems: 1 } },
    { id: 'remind', kind: 'message', copy: 'Still thinking about {title}?', when: { minCartItems: 1 } },
  ],
};

describe('minimum margin', () => {
  const [discount, remind] = MARGINED.actions as [never, never];
  const at = (events: HunchEvent[]) => situationOf(intent('ready_to_buy'), events, catalog);
  const unpriced = event('add_to_cart', { item_id: 'socks-9' }); // in no catalog, no price on the event

  it('offers an action with a cost only while the cart earns min after it', () => {
    expect(cartMargin(at([add('mugs-1', 2, 12)]).lines, MARGINED)).toBe(6);
    expect(isEligible(discount, at([add('mugs-1', 2, 12)]), MARGINED)).toBe(true); // 6 - 3 = 3 ≥ 2
    expect(isEligible(discount, at([add('mugs-1', 2, 12), add('teas-1', 1, 8)]), MARGINED)).toBe(true); // 8 - 3
    expect(isEligible(discount, at([add('mugs-1', 1, 12)]), MARGINED)).toBe(false); // 3 - 3 = 0 < 2
    expect(isEligible(discount, at([add('mugs-1', 1, 20)]), MARGINED)).toBe(true); // 5 - 3 = 2: exactly min
    expect(isEligible(discount, at([]), MARGINED)).toBe(false); // nothing earned
    // Without a margin declared, the same thin cart is no obstacle.
    expect(isEligible(discount, at([add('mugs-1', 1, 12)]), { ...MARGINED, margin: undefined })).toBe(true);
  });

  it('a line without a known price: the margin is unknown, no action with a cost; those without are unaffected', () => {
    const events = [add('mugs-1', 5, 12), unpriced];
    expect(cartMargin(at(events).lines, MARGINED)).toBeUndefined();
    expect(isEligible(discount, at(events), MARGINED)).toBe(false);
    expect(isEligible(remind, at(events), MARGINED)).toBe(true);
    expect(isEligible(discount, at([add('mugs-1', 5, 12)]), MARGINED)).toBe(true); // priced: 15 - 3
  });

  it('a category rate overrides the shop rate', () => {
    const thin = at([add('mugs-1', 1, 12), add('teas-1', 1, 8)]); // 20 × 25 % = 5: 2 left after 3, exactly min
    expect(isEligible(discount, thin, MARGINED)).toBe(true);
    const teas = { ...MARGINED, margin: { rate: 0.25, min: 2, categories: { teas: 0.1 } } }; // 3 + 0.8 = 3.8 - 3 < 2
    expect(cartMargin(thin.lines, teas)).toBe(3.8);
    expect(isEligible(discount, thin, teas)).toBe(false);
    const mugs = { ...MARGINED, margin: { rate: 0.25, min: 2, categories: { mugs: 0.5 } } };
    expect(isEligible(discount, at([add('mugs-1', 1, 12)]), mugs)).toBe(true); // 6 - 3 = 3
  });

  it('rejects a bad margin with one clear error', () => {
    const check = (margin: unknown) => checkStrategy('x', { ...MARGINED, margin } as StrategyDeclaration);
    expect(check({ rate: 0.3, min: 0, categories: { mugs: 1 } }).ok).toBe(true);
    const error = { ok: false, error: 'strategy x: margin: rate and category rates must be in (0, 1], min a number ≥ 0' };
    for (const margin of [{ rate: 0, min: 2 }, { rate: 1.2, min: 2 }, { rate: '0.3', min: 2 }, { min: 2 }, null, 0.3, { rate: 0.3, min: -1 }, { rate: 0.3, min: Infinity }, { rate: 0.3, min: '2' }, { rate: 0.3 }, { rate: 0.3, min: 2, categories: { mugs: 0 } }, { rate: 0.3, min: 2, categories: { mugs: NaN } }]) {
      expect(check(margin), JSON.stringify(margin)).toEqual(error);
    }
  });
});

describe('copy', () => {
  it('fills every slot, or nothing when one has no value; values stay literal text', () => {
    expect(slotsOf('{a} and {b}')).toEqual(['a', 'b']);
    expect(fillTemplate('Still thinking about {title}?', { title: '<b>Blue</b> {price}' })).toBe('Still thinking about <b>Blue</b> {price}?');
    expect(fillTemplate('{title} for {price}', { title: 'Mug' })).toBeUndefined();
    expect(fillTemplate('no slots', {})).toBe('no slots');
  });
});

describe('context', () => {
  it('reads the cart: quantities, prices from the event or the catalog, removals and purchases', () => {
    const events = [add('mugs-1', 2, 12), add('teas-1'), add('lamps-1'), event('remove_from_cart', { item_id: 'lamps-1' })];
    const { lines, currency } = cartOf(events, catalog);
    expect(lines.map(({ id, quantity, price }) => [id, quantity, price])).toEqual([['mugs-1', 2, 12], ['teas-1', 1, 8]]);
    expect(currency).toBe('EUR');
    expect(cartOf([...events, event('purchase', { value: 32 })], catalog).lines).toEqual([]);
    const context = decisionContextOf(intent('ready_to_buy'), events, lines);
    expect(context).toEqual({ stage: 'ready_to_buy', purchaseProbability: null, cartItems: 3, cartValue: 32, sessionEvents: 4 });
    expect(decisionFeatures(context)).toHaveLength(DECISION_FEATURES.length);
  });

  it('the product in focus: the latest in the cart, else the latest viewed, never an excluded one', () => {
    const viewed = [event('view_item', { item_id: 'mugs-2' }), event('view_item', { item_id: 'lamps-1' })];
    expect(focusOf(situationOf(intent('browsing'), viewed, catalog), NUDGE)?.item.id).toBe('mugs-2');
    const carted = situationOf(intent('ready_to_buy'), [...viewed, add('mugs-1', 1, 12), add('lamps-1', 1, 40)], catalog);
    expect(focusOf(carted, NUDGE)).toEqual({ item: expect.objectContaining({ id: 'mugs-1' }), inCart: true });
    const values = slotValuesOf(carted, NUDGE);
    expect(values).toMatchObject({ title: 'Blue Mug', category: 'mugs', cart_items: '2', top_category: 'mugs' });
    expect(values.left_to_free_shipping).toBeUndefined(); // 52 is past the threshold
  });

  it('eligibility: stages, cart size, within reach of free shipping, no incentive on an excluded cart', () => {
    const [remind, shipping, discount] = NUDGE.actions as [never, never, never];
    const at = (stage: Intent['stage'], events: HunchEvent[]) => situationOf(intent(stage), events, catalog);
    const one = [add('mugs-1', 1, 12)];
    expect(isEligible(remind, at('at_risk_of_leaving', one), NUDGE)).toBe(true);
    expect(isEligible(remind, at('ready_to_buy', one), NUDGE)).toBe(false);
    expect(isEligible(remind, at('at_risk_of_leaving', []), NUDGE)).toBe(false);
    expect(isEligible(shipping, at('ready_to_buy', one), NUDGE)).toBe(false); // 38 away
    expect(isEligible(shipping, at('ready_to_buy', [add('mugs-1', 3, 12)]), NUDGE)).toBe(true); // 14 away
    expect(isEligible(shipping, at('ready_to_buy', [add('mugs-1', 5, 12)]), NUDGE)).toBe(false); // past it
    expect(isEligible(discount, at('ready_to_buy', one), NUDGE)).toBe(true);
    expect(isEligible(discount, at('ready_to_buy', [...one, add('lamps-1', 1, 40)]), NUDGE)).toBe(false);
    expect(slotValuesOf(at('ready_to_buy', [add('mugs-1', 3, 12)]), NUDGE).left_to_free_shipping).toMatch(/14[.,]00/);
  });
});

function fakeConsent(storage = true): Consent {
  return {
    state: () => ({ personalization_storage: storage ? 'granted' : 'denied', analytics_storage: 'granted' }),
    allows: (purpose) => purpose !== 'storage' || storage,
    update: () => undefined,
    subscribe: () => () => undefined,
    gpc: false,
    forget: () => undefined,
    onForget: () => () => undefined,
    close: () => undefined,
  };
}

const MODEL_URL = 'https://shop.test/models/demo/';
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/**
 * The model directory as the fake server serves it: hunch.json, naming `policy` as policy.json with
 * its hash when there is one (`tamper` serves other bytes than it lists), and every URL requested.
 */
function serveModel(policy: unknown, { tamper = false, manifestStatus = 200 } = {}) {
  const requested: string[] = [];
  const bytes = policy === undefined ? undefined : new TextEncoder().encode(JSON.stringify(policy));
  const manifest = {
    format: 'hunch-model',
    formatVersion: 2,
    version: 'abc123def456',
    createdAt: '2026-12-01T00:00:00.000Z',
    encoding: { version: ENCODING_VERSION, maxLength: 32 },
    vocabulary: ['[PAD]', '[BOS]', '[UNK]'],
    merges: [],
    files: { 'catalog.json': { sha256: 'ab'.repeat(32), bytes: 10 }, ...(bytes ? { 'policy.json': { sha256: sha256(bytes), bytes: bytes.length } } : {}) },
    training: { events: 1, sequences: 1, steps: 1, finalLoss: 1, seed: 1 },
    ...(bytes ? { policy: 'policy.json' } : {}),
  };
  vi.stubGlobal('fetch', async (input: RequestInfo | URL) => {
    const url = String(input instanceof Request ? input.url : input);
    requested.push(url);
    if (url === `${MODEL_URL}hunch.json`) return new Response(JSON.stringify(manifest), { status: manifestStatus });
    if (url === `${MODEL_URL}policy.json` && bytes) {
      // Tampered: the same size, one weight changed (the hash differs, the size does not).
      const served = tamper ? new TextEncoder().encode(new TextDecoder().decode(bytes).replace('[1,', '[9,')) : bytes;
      return new Response(served, { status: 200 });
    }
    return new Response('', { status: 404 });
  });
  return requested;
}

function setup({ events = [] as HunchEvent[], stage = 'at_risk_of_leaving' as Intent['stage'], heldOut = false, storage = true, policy = undefined as unknown, tamper = false, manifestStatus = 200, declarations = { 'cart-nudge': NUDGE } as StrategyDeclarations, draws = [0.5] } = {}) {
  const logged: EventParams[] = [];
  const requested = serveModel(policy, { tamper, manifestStatus });
  const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
  let draw = 0;
  const strategies = createStrategies(
    {
      consent: fakeConsent(storage),
      heldOut: () => heldOut,
      situation: async () => ({ intent: intent(stage), events, entries: catalog }),
      track: (name, params) => {
        logged.push({ ...params, name } as EventParams);
        return 'id';
      },
      modelUrl: MODEL_URL,
      random: () => draws[draw++ % draws.length]!,
    },
    declarations,
  );
  return { strategies, logged, warn, requested };
}

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

const policyFor = (weights: Record<string, number>, epsilon = 0.2): PolicyFile => ({
  version: 1,
  id: 'learned-1',
  features: [...DECISION_FEATURES],
  epsilon,
  strategies: { 'cart-nudge': { actions: Object.fromEntries(Object.entries(weights).map(([id, bias]) => [id, { weights: DECISION_FEATURES.map((_, i) => (i === 0 ? bias : 0)) }])) } },
});

describe('decide', () => {
  it('draws uniformly among the eligible actions without a policy and logs the propensity', async () => {
    // At risk with a 12 € cart: remind, discount and none are eligible (free shipping is 38 away).
    const { strategies, logged } = setup({ events: [add('mugs-1', 1, 12)], draws: [0] });
    const decision = await strategies.decide('cart-nudge');
    expect(decision).toMatchObject({ strategy: 'cart-nudge', action: { id: 'remind', kind: 'message' }, copy: 'Still thinking about Blue Mug?', reason: 'because you left Blue Mug in your cart', policy: UNIFORM_POLICY });
    expect(decision!.propensity).toBeCloseTo(1 / 3);
    expect(Object.keys(decision!.probabilities)).toEqual(['remind', 'discount', 'none']);
    expect(logged).toEqual([
      {
        name: 'decision',
        strategy_id: 'cart-nudge',
        action_id: 'remind',
        propensity: decision!.propensity,
        policy_id: UNIFORM_POLICY,
        features: decisionFeatures({ stage: 'at_risk_of_leaving', purchaseProbability: null, cartItems: 1, cartValue: 12, sessionEvents: 1, freeShippingGap: 38 }),
        eligible: ['remind', 'discount', 'none'],
      },
    ]);
  });

  it('logs none too, with its probability', async () => {
    const { strategies, logged } = setup({ events: [add('mugs-1', 1, 12)], draws: [0.99] });
    const decision = await strategies.decide('cart-nudge');
    expect(decision).toMatchObject({ action: { id: 'none', kind: 'none' }, copy: '' });
    expect(logged[0]).toMatchObject({ action_id: 'none', propensity: decision!.propensity });
  });

  it('requests no policy when hunch.json names none: uniform, hunch.json read once per page', async () => {
    const { strategies, requested } = setup({ events: [add('mugs-1', 1, 12)], draws: [0] });
    expect(await strategies.decide('cart-nudge')).toMatchObject({ policy: UNIFORM_POLICY });
    expect(await strategies.decide('cart-nudge')).toMatchObject({ policy: UNIFORM_POLICY });
    expect(requested).toEqual([`${MODEL_URL}hunch.json`]);
  });

  it('follows the policy hunch.json names, its bytes checked against the hash it lists', async () => {
    const { strategies, requested } = setup({ events: [add('mugs-1', 1, 12)], policy: policyFor({ remind: 1, 'free-shipping': 0, discount: 3, none: 0 }) });
    expect(await strategies.decide('cart-nudge')).toMatchObject({ policy: 'learned-1' });
    expect(await strategies.decide('cart-nudge')).toMatchObject({ policy: 'learned-1' });
    expect(requested).toEqual([`${MODEL_URL}hunch.json`, `${MODEL_URL}policy.json`]); // once per page
  });

  it('refuses a tampered policy.json (bytes other than hunch.json lists): null, one warning naming the hash, none logged as fallback', async () => {
    // Its own strategy name: logOnce warns once per kind and page (this module is the page).
    const { strategies, logged, warn } = setup({ events: [add('mugs-1', 1, 12)], policy: { ...policyFor({ remind: 1, 'free-shipping': 0, discount: 3, none: 0 }), strategies: { 'tamper-nudge': policyFor({ remind: 1, 'free-shipping': 0, discount: 3, none: 0 }).strategies['cart-nudge']! } }, tamper: true, declarations: { 'tamper-nudge': NUDGE }, draws: [0] });
    expect(await strategies.decide('tamper-nudge')).toBeNull();
    expect(await strategies.decide('tamper-nudge')).toBeNull();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toMatch(/^\[hunch\] strategy tamper-nudge decides nothing: policy\.json: model file policy\.json does not match hunch\.json: SHA-256 [0-9a-f]{64} where hunch\.json lists [0-9a-f]{64}$/);
    expect(logged).toEqual([0, 1].map(() => ({ name: 'decision', strategy_id: 'tamper-nudge', action_id: 'none', propensity: 1, policy_id: FALLBACK_POLICY })));
  });

  it('follows policy.json: epsilon-greedy over the eligible actions', async () => {
    const { strategies, logged } = setup({ events: [add('mugs-1', 1, 12)], policy: policyFor({ remind: 1, 'free-shipping': 0, discount: 3, none: 0 }), draws: [0.5] });
    const decision = await strategies.decide('cart-nudge');
    expect(decision).toMatchObject({ action: { id: 'discount', cost: 2 }, copy: '10% off mugs', policy: 'learned-1' });
    expect(decision!.propensity).toBeCloseTo(0.8 + 0.2 / 3);
    expect(logged[0]).toMatchObject({ action_id: 'discount', policy_id: 'learned-1' });
  });

  it('a frequency cap leaves only none, per session and per day', async () => {
    const s1 = [add('mugs-1', 1, 12)];
    const { strategies, logged } = setup({ events: s1, draws: [0] });
    expect((await strategies.decide('cart-nudge'))!.action.id).toBe('remind');
    expect((await strategies.decide('cart-nudge'))!.action.id).toBe('remind');
    const capped = await strategies.decide('cart-nudge');
    expect(capped).toMatchObject({ action: { id: 'none' }, propensity: 1, reason: expect.stringContaining('frequency cap') });
    expect(logged.map((params) => params.action_id)).toEqual(['remind', 'remind', 'none']);
    s1.push(add('mugs-2', 1, 15, 's2')); // a new session: one more today, then the day's cap
    expect((await strategies.decide('cart-nudge'))!.action.id).toBe('remind');
    expect((await strategies.decide('cart-nudge'))!.action.id).toBe('none');
  });

  it('an incentive is offered only within the daily budget', async () => {
    const budgeted: StrategyDeclaration = { actions: [{ id: 'discount', kind: 'incentive', copy: '10% off', cost: 2, when: { minCartItems: 1 } }], budget: { perDay: 5 } };
    const { strategies } = setup({ events: [add('mugs-1', 1, 12)], declarations: { 'cart-nudge': budgeted }, draws: [0] });
    expect((await strategies.decide('cart-nudge'))!.action.id).toBe('discount');
    expect((await strategies.decide('cart-nudge'))!.action.id).toBe('discount');
    expect(await strategies.decide('cart-nudge')).toMatchObject({ action: { id: 'none' }, propensity: 1 }); // 4 + 2 > 5
  });

  it('the minimum margin: the incentive while the cart earns enough, else none saying why', async () => {
    const only: StrategyDeclaration = { ...MARGINED, actions: [MARGINED.actions[0]!] };
    const rich = setup({ events: [add('mugs-1', 2, 12)], declarations: { 'cart-nudge': only }, draws: [0] });
    expect(await rich.strategies.decide('cart-nudge')).toMatchObject({ action: { id: 'discount', cost: 3 } });
    const thin = setup({ events: [add('mugs-1', 1, 12)], declarations: { 'cart-nudge': only }, draws: [0] });
    expect(await thin.strategies.decide('cart-nudge')).toMatchObject({ action: { id: 'none' }, propensity: 1, reason: "no action is eligible now (at risk of leaving, 1 in the cart; no incentive: the cart's margin is 3 and must keep 2 after its cost)" });
    const unknown = setup({ events: [add('mugs-1', 5, 12), event('add_to_cart', { item_id: 'socks-9' })], declarations: { 'cart-nudge': only }, draws: [0] });
    expect(await unknown.strategies.decide('cart-nudge')).toMatchObject({ action: { id: 'none' }, reason: "no action is eligible now (at risk of leaving, 6 in the cart; no incentive: the cart's margin is unknown and must keep 2 after its cost)" });
  });

  it('a held-out shopper gets none, logged with propensity 1 and policy holdout', async () => {
    const { strategies, logged } = setup({ events: [add('mugs-1', 1, 12)], heldOut: true });
    expect(await strategies.decide('cart-nudge')).toMatchObject({ action: { id: 'none' }, propensity: 1, policy: HOLDOUT_POLICY });
    expect(logged).toEqual([{ name: 'decision', strategy_id: 'cart-nudge', action_id: 'none', propensity: 1, policy_id: HOLDOUT_POLICY }]);
  });

  it('logs nothing without storage consent', async () => {
    const { strategies, logged } = setup({ events: [add('mugs-1', 1, 12)], storage: false, draws: [0] });
    expect((await strategies.decide('cart-nudge'))!.action.id).toBe('remind');
    expect(logged).toEqual([]);
  });

  it('bad input: null, one warning, the decision logged as none', async () => {
    const cases: Array<[string, Parameters<typeof setup>[0]]> = [
      ['an unknown strategy', { declarations: {} }],
      ['an unknown slot', { declarations: { 'cart-nudge': { actions: [{ id: 'a', kind: 'message', copy: 'Hi {titel}' }] } } }],
      ['a policy without the strategy', { policy: { ...policyFor({}), strategies: {} } }],
      ['a policy missing an action', { policy: policyFor({ remind: 1, none: 0 }) }],
      ['a policy that does not validate', { policy: { version: 1, id: 'x' } }],
      ['a tampered policy', { policy: policyFor({ remind: 1, 'free-shipping': 0, discount: 3, none: 0 }), tamper: true }],
      ['a hunch.json that cannot be read (whether a policy ships is unknown)', { manifestStatus: 404 }],
    ];
    for (const [, options] of cases) {
      const { strategies, logged, warn } = setup({ events: [add('mugs-1', 1, 12)], ...options });
      expect(await strategies.decide('cart-nudge')).toBeNull();
      expect(await strategies.decide('cart-nudge')).toBeNull();
      expect(warn.mock.calls.length).toBeLessThanOrEqual(1); // logOnce: at most once per page and kind
      expect(logged).toEqual([0, 1].map(() => ({ name: 'decision', strategy_id: 'cart-nudge', action_id: 'none', propensity: 1, policy_id: FALLBACK_POLICY })));
      vi.restoreAllMocks();
    }
  });
});
