import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The directory holding Switchboard's package.json, found by walking up from `fromDir`: the sources run from src/
 * under tsx and from dist/src/ when built (the Docker image), so a fixed `../` reaches the root in one case only.
 * Throws when no package.json is above `fromDir` (a broken install).
 */
export function packageRoot(fromDir: string): string {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json in ${fromDir} or any directory above it`);
  }
}
