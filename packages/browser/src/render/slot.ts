/**
 * <hunch-slot name="cart-nudge">: where a strategy's decision shows. On connection it asks
 * hunch.decide(name) and renders the chosen action's copy in a shadow root, as text only (a
 * product title carrying markup stays text), a link only to an http(s) URL, and for a
 * free-shipping action a progress bar; with the `show-reason` attribute, the reason too. Nothing
 * (an empty box) for `none`, a shopper held out, or bad input. Themed like
 * <hunch-recommendations> (styles.ts SLOT_STYLES: custom properties and ::part).
 *
 * The action is logged as `view_promotion` { promotion_id: action, creative_slot: strategy } once
 * it is viewable (capture/viewable.ts, the same rule as impressions and exposures), and as
 * `select_promotion` on each click; neither without personalization_storage consent. The
 * element's `decision` property holds the decision, and a `hunch-decision` event (bubbling,
 * composed) carries it as its detail once made, for a shop's own display. Changing `name` while
 * connected decides again for the new strategy, as a first render (its own exposure).
 */
import type { Hunch } from '../api.js';
import { watchViewable } from '../capture/viewable.js';
import { logOnce } from '../lib/log.js';
import type { Decision } from '../strategies/decide.js';
import { safeUrl } from './safe.js';
import { adoptStyles, SLOT_STYLES } from './styles.js';

export const SLOT_ELEMENT = 'hunch-slot';

function part<K extends keyof HTMLElementTagNameMap>(tag: K, name: string, text?: string): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  element.setAttribute('part', name);
  if (text !== undefined) element.textContent = text;
  return element;
}

/** The decision's content: a link (safe href) or a box, with the message, the meter and the reason. */
function content(decision: Decision, showReason: boolean): HTMLElement {
  const href = safeUrl(decision.action.href);
  const box = href ? part('a', 'slot link') : part('div', 'slot');
  if (box instanceof HTMLAnchorElement) box.href = href!;
  box.append(part('span', 'message', decision.copy));
  if (decision.meter) {
    const meter = part('progress', 'meter');
    meter.max = decision.meter.max;
    meter.value = Math.min(decision.meter.value, decision.meter.max);
    meter.setAttribute('aria-label', decision.copy);
    box.append(meter);
  }
  if (showReason) box.append(part('span', 'reason', decision.reason));
  return box;
}

/** Defines <hunch-slot> for this instance (the script tag calls it; npm users call it once). */
export function defineSlotElement(hunch: Hunch): void {
  if (typeof customElements === 'undefined' || customElements.get(SLOT_ELEMENT)) return;
  const consented = () => hunch.consent().personalization_storage === 'granted';

  class HunchSlot extends HTMLElement {
    /** The decision shown (null: none made, or bad input; undefined: not yet). */
    decision: Decision | null | undefined;
    private stop: (() => void) | undefined;

    static readonly observedAttributes = ['name'];

    /** A new name while shown: the old decision goes, the new strategy decides (not before the first connection). */
    attributeChangedCallback(_attribute: string, before: string | null, after: string | null): void {
      if (this.stop && before !== after) this.connectedCallback();
    }

    connectedCallback(): void {
      this.stop?.();
      const root = this.shadowRoot ?? this.attachShadow({ mode: 'open' });
      adoptStyles(root, SLOT_STYLES);
      root.querySelector('[part~="slot"]')?.remove();
      this.decision = undefined;
      let stopped = false;
      let viewer: ReturnType<typeof watchViewable> | undefined;
      const onClick = () => {
        const decision = this.decision;
        if (decision && decision.action.kind !== 'none' && consented()) hunch.track('select_promotion', { promotion_id: decision.action.id, creative_slot: decision.strategy });
      };
      root.addEventListener('click', onClick);
      this.stop = () => {
        stopped = true;
        viewer?.stop();
        root.removeEventListener('click', onClick);
      };
      const name = this.getAttribute('name') ?? '';
      // In a task of its own: strategies declared right after the script tag (queued by the
      // loader until the SDK arrives) are in place by then, even for slots already in the page.
      const decided = new Promise<void>((resolve) => setTimeout(resolve, 0)).then(() => (stopped ? null : hunch.decide(name)));
      void decided
        .then((decision) => {
          if (stopped) return;
          this.decision = decision;
          this.dispatchEvent(new CustomEvent('hunch-decision', { detail: decision, bubbles: true, composed: true }));
          if (!decision || decision.action.kind === 'none' || decision.copy === '') return;
          root.append(content(decision, this.hasAttribute('show-reason')));
          viewer = watchViewable(this.ownerDocument, () => {
            viewer?.stop();
            if (consented()) hunch.track('view_promotion', { promotion_id: decision.action.id, creative_slot: decision.strategy });
          });
          viewer.observe(this);
        })
        .catch((error) => logOnce(`<${SLOT_ELEMENT}> failed`, error));
    }

    disconnectedCallback(): void {
      this.stop?.();
      this.stop = undefined;
    }
  }
  customElements.define(SLOT_ELEMENT, HunchSlot);
}
