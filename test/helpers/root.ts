// The repository's root, for tests that read samples/, mappings/ or src/.
import { resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..', '..');
