// Lets Node.js run this package's TypeScript sources directly (Node >= 22.18 strips types): maps
// a relative `./x.js` import to `./x.ts` when only the source exists. Used with `node --import`.
import { registerHooks } from 'node:module';

registerHooks({
  resolve(specifier, context, nextResolve) {
    try {
      return nextResolve(specifier, context);
    } catch (err) {
      if (/^\.{1,2}\//.test(specifier) && specifier.endsWith('.js')) {
        return nextResolve(specifier.slice(0, -3) + '.ts', context);
      }
      throw err;
    }
  },
});
