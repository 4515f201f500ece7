// Validates Kubernetes manifests offline against the JSON schemas bundled in
// the npm packages kubernetes-models (core kinds) and
// @kubernetes-models/prometheus-operator (ServiceMonitor). Unknown kinds
// fail. Limitation: unknown fields are not rejected.
// Usage: node validate.mjs FILE.yaml...
// ESM resolves bare names from this file's folder, so the test copies it
// next to the node_modules installed from package.json (in .cache/).
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';

const load = (name) => import(name);

let bad = 0;
let n = 0;
for (const file of process.argv.slice(2)) {
  for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
    if (doc.errors.length) {
      bad++;
      console.log(`FAIL ${file}: ${doc.errors[0].message}`);
      continue;
    }
    const obj = doc.toJS();
    if (!obj) continue;
    n++;
    const id = `${obj.kind}/${obj.metadata?.name}`;
    const [group, version] = obj.apiVersion.includes('/')
      ? obj.apiVersion.split('/')
      : [null, obj.apiVersion];
    const pkg = group === 'monitoring.coreos.com'
      ? `@kubernetes-models/prometheus-operator/${group}/${version}/${obj.kind}`
      : group ? `kubernetes-models/${group}/${version}/${obj.kind}`
        : `kubernetes-models/${version}/${obj.kind}`;
    try {
      const m = await load(pkg);
      new (m[obj.kind] ?? m.default)(obj).validate();
      console.log(`ok   ${id}`);
    } catch (e) {
      bad++;
      console.log(`FAIL ${id}: ${e.message}`);
    }
  }
}
console.log(`${n - bad} passed, ${bad} failed`);
process.exit(bad || n === 0 ? 1 : 0);
