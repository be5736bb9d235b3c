/**
 * Optional peer dependencies (tfjs, the AWS SDK, vega): the user's to install, loaded only by the
 * part that needs them, so a missing one is reported as the packages to install, not a stack trace.
 */
export class MissingPeerError extends Error {
  constructor(
    /** npm install arguments, e.g. 'vega@6' */
    readonly packages: readonly string[],
    readonly forWhat: string,
  ) {
    super(`${forWhat} needs ${packages.map((p) => p.replace(/@[^@/]*$/, '')).join(' and ')}, which is not installed: npm i ${packages.join(' ')}`);
    this.name = 'MissingPeerError';
  }
}

/** `load()`, or a MissingPeerError when one of `packages` is what could not be found. */
export async function loadPeer<T>(load: () => Promise<T>, packages: readonly string[], forWhat: string): Promise<T> {
  try {
    return await load();
  } catch (e) {
    const message = String((e as Error | null)?.message ?? e);
    const names = packages.map((p) => p.replace(/@[^@/]*$/, ''));
    if ((e as { code?: string } | null)?.code === 'ERR_MODULE_NOT_FOUND' && names.some((n) => message.includes(`'${n}'`))) throw new MissingPeerError(packages, forWhat);
    throw e;
  }
}
