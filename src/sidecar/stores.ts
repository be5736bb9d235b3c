/** Store mode's store: opened by location through the plugins (folder path, file://, s3://, memory://). */
import { openStore } from '../../plugins/index.ts';
import type { CheckpointStore } from '../core/store.ts';

export const STORE_MODE = {
  open(location: string): Promise<CheckpointStore> {
    return openStore(location);
  },
};
