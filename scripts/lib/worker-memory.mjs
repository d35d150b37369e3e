// The memory a page's workers (dedicated or shared) hold, read through the Chrome DevTools Protocol attached
// to each worker target (the page's CDP session, Target.attachToTarget without flattening):
// - Runtime.getHeapUsage: the V8 heap in use (`usedSize`), Blink's objects (`embedderHeapUsedSize`)
//   and ArrayBuffer backing stores (`backingStorageSize`: typed arrays, the copies of model files);
// - WebAssembly memories, which that count leaves out: Runtime.queryObjects on
//   WebAssembly.Memory.prototype (it collects garbage first), each memory's buffer.byteLength.
// Not counted: compiled code (the wasm modules' machine code) and the worker thread's own stacks.

/** Sends `method` to the worker target `sessionId` through `cdp` (the page's session); resolves its result. */
function targetSender(cdp, sessionId) {
  let next = 0;
  const pending = new Map();
  cdp.on('Target.receivedMessageFromTarget', (event) => {
    if (event.sessionId !== sessionId) return;
    const message = JSON.parse(event.message);
    pending.get(message.id)?.(message);
    pending.delete(message.id);
  });
  return async (method, params = {}) => {
    const id = ++next;
    const reply = new Promise((resolve) => pending.set(id, resolve));
    await cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method, params }) });
    const message = await reply;
    if (message.error) throw new Error(`${method}: ${message.error.message}`);
    return message.result;
  };
}

/**
 * The workers' memory in bytes, summed over the (dedicated and shared) workers whose script URL includes
 * `urlPart` (all of them by default): { workers, js_heap_used_bytes, blink_bytes,
 * array_buffer_bytes, wasm_memory_bytes, total_bytes }.
 * @param {import('playwright-core').BrowserContext} context
 * @param {import('playwright-core').Page} page
 */
export async function workerMemory(context, page, urlPart = '') {
  const cdp = await context.newCDPSession(page);
  try {
    const { targetInfos } = await cdp.send('Target.getTargets');
    const workers = targetInfos.filter((target) => (target.type === 'worker' || target.type === 'shared_worker') && target.url.includes(urlPart));
    const total = { workers: workers.length, js_heap_used_bytes: 0, blink_bytes: 0, array_buffer_bytes: 0, wasm_memory_bytes: 0, total_bytes: 0 };
    for (const worker of workers) {
      const { sessionId } = await cdp.send('Target.attachToTarget', { targetId: worker.targetId, flatten: false });
      const send = targetSender(cdp, sessionId);
      try {
        const prototype = await send('Runtime.evaluate', { expression: 'WebAssembly.Memory.prototype' });
        const { objects } = await send('Runtime.queryObjects', { prototypeObjectId: prototype.result.objectId, objectGroup: 'hunch-bench' });
        const wasm = await send('Runtime.callFunctionOn', { objectId: objects.objectId, functionDeclaration: 'function () { return this.reduce((sum, memory) => sum + memory.buffer.byteLength, 0); }', returnByValue: true });
        await send('Runtime.releaseObjectGroup', { objectGroup: 'hunch-bench' });
        // After queryObjects' collection: the heap as it stands without garbage.
        const heap = await send('Runtime.getHeapUsage');
        total.js_heap_used_bytes += heap.usedSize;
        total.blink_bytes += heap.embedderHeapUsedSize ?? 0;
        total.array_buffer_bytes += heap.backingStorageSize ?? 0;
        total.wasm_memory_bytes += wasm.result.value;
      } finally {
        await cdp.send('Target.detachFromTarget', { sessionId }).catch(() => undefined);
      }
    }
    total.total_bytes = total.js_heap_used_bytes + total.blink_bytes + total.array_buffer_bytes + total.wasm_memory_bytes;
    return total;
  } finally {
    await cdp.detach().catch(() => undefined);
  }
}
