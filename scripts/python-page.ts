// web/python.html: runs the script in the text area as `python3.11 -c` in an
// in-page CPython process (vms/python/host/browser.ts) and shows its stdout,
// its stderr (red) and its exit status as they come (scripts/script-page.ts).
// `?fork=anywhere` runs the fork build: os.fork works, its children in the
// page, their output here too (docs/PYTHON.md "fork").
import { readOutput, startBrowserPythonProcess, type PageForkBuild } from '../vms/python/host/browser.js';
import { scriptPage } from './script-page.js';

const EXAMPLE = `# four threads share a queue of work and a locked total; each prints as it goes
import queue, threading, time

work, total, lock = queue.Queue(), [0], threading.Lock()
for n in range(1, 21):
    work.put(n)

def worker():
    name = threading.current_thread().name
    while True:
        try:
            n = work.get_nowait()
        except queue.Empty:
            return
        s = sum(i * i for i in range(n * 5000))
        with lock:  # print's text and its newline are two writes: under the lock, lines stay whole
            total[0] += n
            print(f"{name}: item {n} -> {s}")
        time.sleep(0.01)

threads = [threading.Thread(target=worker, name=f"worker-{k}") for k in range(4)]
t0 = time.perf_counter()
for t in threads:
    t.start()
for t in threads:
    t.join()
print(f"total {total[0]} in {time.perf_counter() - t0:.2f} s on {len(threads)} threads")
`;

// a value other than 'anywhere' or 'default' is refused when Run starts the process, saying so on the page
const fork = (new URLSearchParams(location.search).get('fork') ?? undefined) as PageForkBuild | undefined;

scriptPage(EXAMPLE, async (source, out) => {
  // unbuffered: each print reaches the page as it happens, not at exit
  const stdin = (document.getElementById('stdin') as HTMLTextAreaElement).value;
  const p = await startBrowserPythonProcess(['-c', source], { env: { PYTHONUNBUFFERED: '1' }, stdin, fork });
  // Stop ends it as SIGKILL would (status 137), whatever its threads are doing
  out.stopWith(() => p.kill());
  const decoders = { 1: new TextDecoder(), 2: new TextDecoder() };
  let next = 0;
  let truncated = false;
  const show = () => {
    const r = readOutput(p.output, next);
    next = r.next;
    for (const { fd, bytes } of r.records) out.write(decoders[fd].decode(bytes, { stream: true }), fd);
    if (r.truncated && !truncated) out.write('\n[the output log is full: later output is not shown]\n', 2);
    truncated ||= r.truncated;
  };
  const timer = setInterval(show, 50);
  const code = await p.status.finally(() => clearInterval(timer));
  show();
  return code;
});
