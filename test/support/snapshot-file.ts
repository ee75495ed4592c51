import { open } from 'node:fs/promises';

/**
 * Writes a snapshot as compact JSON without ever holding the whole document as one string: a
 * 100,000-instance snapshot is well over 100 MB of JSON, and building that string would distort the
 * memory the benchmark measures (and come close to V8's maximum string length). The output is what
 * JSON.stringify would produce (same key order, undefined members dropped).
 */
export async function writeSnapshotFile(value: unknown, file: string): Promise<number> {
  const handle = await open(file, 'w');
  const CHUNK = 1 << 20;
  let pending: string[] = [];
  let pendingLength = 0;
  let written = 0;
  const flush = async () => {
    if (pendingLength === 0) return;
    const text = pending.join('');
    pending = [];
    pendingLength = 0;
    written += Buffer.byteLength(text);
    await handle.write(text);
  };
  const emit = async (text: string) => {
    pending.push(text);
    pendingLength += text.length;
    if (pendingLength >= CHUNK) await flush();
  };
  // Only big containers are walked; everything small is serialized in one go.
  const walk = async (node: unknown, depth: number): Promise<void> => {
    if (depth > 3 || node === null || typeof node !== 'object') {
      await emit(JSON.stringify(node) ?? 'null');
      return;
    }
    if (Array.isArray(node)) {
      await emit('[');
      for (let i = 0; i < node.length; i++) {
        if (i > 0) await emit(',');
        const item: unknown = node[i];
        await emit(item === undefined || typeof item === 'function' ? 'null' : JSON.stringify(item));
      }
      await emit(']');
      return;
    }
    await emit('{');
    let first = true;
    for (const [key, child] of Object.entries(node)) {
      if (child === undefined || typeof child === 'function') continue;
      await emit(`${first ? '' : ','}${JSON.stringify(key)}:`);
      first = false;
      await walk(child, depth + 1);
    }
    await emit('}');
  };
  try {
    await walk(value, 0);
    await emit('\n');
    await flush();
  } finally {
    await handle.close();
  }
  return written;
}
