// Debian source packages through a private apt configuration, verified, then
// unpacked by dpkg-source with Debian's patches: the one fetch the builds of
// the VMs share (build-lua.mjs, build-python.mjs).
//
// The configuration (a sources list, lists, cache and state directory under
// the caller's cache directory) reads the system's apt setup to mirror its
// Debian suites as deb-src lines and never writes it. apt checks the Sources
// index against the archive's signed InRelease; this module checks the .dsc
// against that index and every file against the .dsc. When the newest version
// cannot be fetched whole (a mirror that lags its index), the next older one
// is tried: the newest version whose files all verify is the one built.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** deb-src lines for the Debian bookworm suites the system's apt uses (one-line and deb822 formats). */
export function debSrcLines() {
  const stanzas = [];
  const etc = '/etc/apt';
  const files = [path.join(etc, 'sources.list')];
  try { for (const f of fs.readdirSync(path.join(etc, 'sources.list.d'))) files.push(path.join(etc, 'sources.list.d', f)); } catch { /* none */ }
  for (const file of files) {
    let text;
    try { text = fs.readFileSync(file, 'utf8'); } catch { continue; }
    if (file.endsWith('.sources')) {
      for (const block of text.split(/\n\s*\n/)) {
        const field = (name) => block.match(new RegExp(`^${name}:\\s*(.*)$`, 'mi'))?.[1].trim();
        if (!/\bdeb\b/.test(field('Types') ?? '') || /^enabled:\s*no/mi.test(block)) continue;
        for (const uri of (field('URIs') ?? '').split(/\s+/).filter(Boolean)) {
          for (const suite of (field('Suites') ?? '').split(/\s+/).filter(Boolean)) {
            stanzas.push({ uri, suite, components: field('Components') ?? 'main', signedBy: field('Signed-By') });
          }
        }
      }
    } else if (file.endsWith('.list')) {
      for (const line of text.split('\n')) {
        const m = line.match(/^\s*deb\s+(\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s+(.*)$/);
        if (!m) continue;
        const signedBy = m[1]?.match(/signed-by=(\S+?)[\s\]]/)?.[1];
        stanzas.push({ uri: m[2], suite: m[3], components: m[4].trim(), signedBy });
      }
    }
  }
  // Only Debian's own archive: a third-party repository has no source to trust.
  const debian = stanzas.filter((s) => /\/debian(-security)?\/?$/.test(s.uri) && /^bookworm/.test(s.suite));
  if (!debian.length) debian.push({ uri: 'http://deb.debian.org/debian', suite: 'bookworm', components: 'main' });
  const keyring = '/usr/share/keyrings/debian-archive-keyring.gpg';
  return debian.map((s) => {
    const signedBy = s.signedBy ?? (fs.existsSync(keyring) ? keyring : undefined);
    return `deb-src ${signedBy ? `[signed-by=${signedBy}] ` : ''}${s.uri} ${s.suite} ${s.components}`;
  });
}

function aptOptions(dir) {
  return [
    '-o', `Dir::Etc::SourceList=${path.join(dir, 'sources.list')}`,
    '-o', 'Dir::Etc::SourceParts=/dev/null',
    '-o', `Dir::State::Lists=${path.join(dir, 'lists')}`,
    '-o', `Dir::Cache=${path.join(dir, 'cache')}`,
    '-o', 'Dir::Cache::archives=' + path.join(dir, 'cache', 'archives'),
    '-o', 'APT::Get::Only-Source=true',
  ];
}

const sha256 = (file) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/** `Checksums-Sha256` entries of a .dsc or Sources stanza: name -> { hash, size }. */
export function checksums(text) {
  const m = text.match(/^Checksums-Sha256:\n((?:[ \t].*\n?)+)/m);
  if (!m) return new Map();
  return new Map(m[1].trim().split('\n').map((l) => l.trim().split(/\s+/)).map(([hash, size, name]) => [name, { hash, size: Number(size) }]));
}

function versionLess(a, b) {
  try { execFileSync('dpkg', ['--compare-versions', a, 'lt', b], { stdio: 'ignore' }); return true; } catch { return false; }
}

/**
 * Downloads one version's files and checks the chain (index -> .dsc -> files).
 * Returns the .dsc's path, or a reason it cannot be trusted or fetched.
 */
function download(opts, pkg, record, dl, log) {
  const ver = record.match(/^Version:\s*(\S+)/m)[1];
  const dscName = [...checksums(record).keys()].find((n) => n.endsWith('.dsc'));
  if (!dscName) return { error: `${pkg} ${ver}: no .dsc in the Sources index` };
  fs.mkdirSync(dl, { recursive: true });
  log(`apt-get source --download-only ${pkg}=${ver}`);
  try {
    execFileSync('apt-get', [...opts, '-qq', 'source', '--download-only', `${pkg}=${ver}`], { cwd: dl, stdio: ['ignore', 'inherit', 'inherit'] });
  } catch {
    return { error: `${pkg} ${ver}: apt-get could not download every file` };
  }
  const dsc = path.join(dl, dscName);
  if (!fs.existsSync(dsc) || sha256(dsc) !== checksums(record).get(dscName).hash) return { error: `${dscName}: sha256 differs from the archive's Sources index` };
  const files = checksums(fs.readFileSync(dsc, 'utf8'));
  if (!files.size) return { error: `${dscName}: no Checksums-Sha256` };
  for (const [name, { hash, size }] of files) {
    const f = path.join(dl, name);
    if (!fs.existsSync(f) || fs.statSync(f).size !== size || sha256(f) !== hash) return { error: `${name}: does not match ${dscName}` };
  }
  log(`verified ${dscName} (Sources index) and ${[...files.keys()].join(', ')} (.dsc)`);
  return { dsc, ver };
}

/**
 * The unpacked source tree of Debian's `pkg` under `cache` (`<pkg>-<version>`), fetched once: later calls reuse
 * it while `ready(src)` holds, unless `refetch`. Throws when no version verifies.
 */
export function debianSource({ pkg, cache: cacheDir, ready, refetch = false, log = () => {} }) {
  const cache = path.resolve(cacheDir);
  const current = path.join(cache, 'current');
  if (!refetch && fs.existsSync(current)) {
    const ver = fs.readFileSync(current, 'utf8').trim();
    const src = path.join(cache, `${pkg}-${ver}`);
    if (ready(src)) return { ver, src };
  }
  const apt = path.join(cache, 'apt');
  for (const d of ['lists/partial', 'cache/archives/partial']) fs.mkdirSync(path.join(apt, d), { recursive: true });
  fs.writeFileSync(path.join(apt, 'sources.list'), debSrcLines().join('\n') + '\n');
  const opts = aptOptions(apt);
  log('apt-get update (private lists)');
  execFileSync('apt-get', [...opts, '-qq', 'update'], { stdio: ['ignore', 'inherit', 'inherit'] });
  const showsrc = execFileSync('apt-cache', [...opts, 'showsrc', '--only-source', pkg], { encoding: 'utf8' });
  const records = showsrc.split(/\n\s*\n/).filter((r) => /^Package:/m.test(r));
  if (!records.length) throw new Error(`no ${pkg} source in ${debSrcLines().join('; ')}`);
  const version = (r) => r.match(/^Version:\s*(\S+)/m)[1];
  // Newest first; the same version listed by two suites is tried once.
  const seen = new Set();
  const ordered = records.sort((a, b) => (versionLess(version(a), version(b)) ? 1 : -1))
    .filter((r) => !seen.has(version(r)) && seen.add(version(r)));
  const errors = [];
  for (const record of ordered) {
    const got = download(opts, pkg, record, path.join(cache, 'download', version(record)), log);
    if (got.error) { log(`${got.error}: trying an older version`); errors.push(got.error); continue; }
    const src = path.join(cache, `${pkg}-${got.ver}`);
    fs.rmSync(src, { recursive: true, force: true });
    // dpkg-source checks the same checksums again and applies Debian's patches (the native package has them too).
    execFileSync('dpkg-source', ['-x', got.dsc, src], { stdio: ['ignore', 'ignore', 'inherit'] });
    fs.writeFileSync(current, `${got.ver}\n`);
    return { ver: got.ver, src };
  }
  throw new Error(`no version of ${pkg} verifies: ${errors.join('; ')}`);
}
