// nsfwjs 4.4.0's MobileNetV2 (TF.js layers, uint8-quantised, Keras 2.2.4) as a model.json object and
// its weights, for the transfer demo (scripts/transfer-demo.mjs) and the tests (test/io/tfjs-helpers.ts).
// nsfwjs is a devDependency. Each weight bundle is a browserify module exporting one base64 string;
// requiring it takes V8 ~20 s (a 3.5 MB minified bundle), so the string is read from the file.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const require = createRequire(import.meta.url);

/** @returns {Promise<{ modelJson: any, weightData: Buffer }>} */
export async function nsfwjsArtifacts() {
  const m = require('nsfwjs/models/mobilenet_v2').MobileNetV2Model;
  const json = await m.modelJson();
  const entry = require.resolve('nsfwjs/models/mobilenet_v2');
  const root = entry.slice(0, entry.lastIndexOf('/dist/'));
  const shards = m.weightBundles.map((_, i) => {
    const text = readFileSync(join(root, 'dist', 'models', 'mobilenet_v2', `group1-shard${i + 1}of${m.weightBundles.length}.min.js`), 'utf8');
    const match = /\.exports="([A-Za-z0-9+/=]+)"/.exec(text);
    if (match === null) throw new Error('nsfwjs: no base64 weight string in the bundle');
    return Buffer.from(match[1], 'base64');
  });
  return { modelJson: json.default ?? json, weightData: Buffer.concat(shards) };
}
