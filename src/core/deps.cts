/**
 * The core's two dependencies, loaded through one CommonJS module. io-ts and fp-ts are CommonJS;
 * on Node 20 an ESM `import` of each of their modules goes through the ESM loader's CommonJS
 * wrapping (~9 MB of RSS for this graph), while `require` inside one CommonJS module costs < 1 MB.
 * The core imports io-ts and fp-ts from here only; types come along with the values.
 */
import t = require('io-ts');
import E = require('fp-ts/lib/Either.js');
import fn = require('fp-ts/lib/function.js');

const pipe = fn.pipe;

export { t, E, pipe };
