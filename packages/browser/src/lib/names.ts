/** Where Hunch keeps things on the shopper's device: one place, so that forget() misses none. */
export const DB_NAME = 'hunch';
export const SESSION_KEY = 'hunch.session';
