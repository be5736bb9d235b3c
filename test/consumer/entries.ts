// Every documented entry point loads by name (without the optional peers installed for the
// entries that do not need them), and exposes its main function.
const entries: Record<string, string> = {
  'ckpt-policy': 'reduce',
  'ckpt-policy/runtime': 'Checkpointer',
  'ckpt-policy/stores': 'openStore',
  'ckpt-policy/stores/fs': 'openFsStore',
  'ckpt-policy/stores/memory': 'tfjsMemoryStore',
  'ckpt-policy/stores/indexeddb': 'indexedDbStore',
  'ckpt-policy/simulate': 'simulate',
  'ckpt-policy/audit': 'verifyLog',
  'ckpt-policy/sidecar': 'serve',
  'ckpt-policy/orbax': 'constructOptions',
  'ckpt-policy/keras': 'reduce',
  'ckpt-policy/keras/logs': 'readKerasLog',
  'ckpt-policy/transformers': 'parseTrainingArguments',
};
const out: Record<string, string> = {};
for (const [entry, name] of Object.entries(entries)) {
  try {
    const mod = (await import(entry)) as Record<string, unknown>;
    out[entry] = typeof mod[name];
  } catch (e) {
    out[entry] = `error: ${(e as Error).message}`;
  }
}
console.log(JSON.stringify(out));
