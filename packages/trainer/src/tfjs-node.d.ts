// @tensorflow/tfjs-node is an optional accelerator the user may install (never our
// dependency): backend.ts imports it only for its side effect of registering a backend.
declare module '@tensorflow/tfjs-node';
