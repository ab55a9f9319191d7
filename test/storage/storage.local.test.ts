// The storage suite on the local driver ($DATA_DIR/storage).
import { describeStorage } from './storage-suite.ts';

describeStorage('local');
