// The frame of a page that runs a script in an in-page process
// (web/lua.html, web/python.html, styled by web/script-page.css): the text
// area with its example, the Run button, a Stop button where the page has one
// and the run offers a way to stop, the output (stderr in red) and the exit
// status with the run's time. `?auto=1` runs the example on load.

/** What a run shows its output on. */
export interface ScriptOutput {
  write(text: string, fd: 1 | 2): void;
  /** Enables the page's Stop button (#stop) for this run: pressing it calls `stop`. */
  stopWith(stop: () => void): void;
}

/** Wires the page: `run` starts `source`, writes its output and resolves with its exit status. */
export function scriptPage(example: string, run: (source: string, out: ScriptOutput) => Promise<number>): ScriptOutput {
  const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
  const source = $<HTMLTextAreaElement>('source');
  const out = $<HTMLPreElement>('out');
  const status = $<HTMLSpanElement>('status');
  const button = $<HTMLButtonElement>('run');
  const stopButton = document.getElementById('stop') as HTMLButtonElement | null;
  let stop: (() => void) | undefined;
  stopButton?.addEventListener('click', () => {
    stopButton.disabled = true;
    stop?.();
  });
  source.value = example;
  const output: ScriptOutput = {
    write(text, fd) {
      const span = document.createElement('span');
      if (fd === 2) span.className = 'err';
      span.textContent = text;
      out.append(span);
    },
    stopWith(f) {
      stop = f;
      if (stopButton) stopButton.disabled = false;
    },
  };
  const start = async () => {
    button.disabled = true;
    out.textContent = '';
    status.className = '';
    status.textContent = 'running…';
    const t0 = performance.now();
    try {
      const code = await run(source.value, output);
      status.className = code === 0 ? 'ok' : 'bad';
      status.textContent = `exit status ${code} (${((performance.now() - t0) / 1000).toFixed(2)} s)`;
    } catch (e) {
      status.className = 'bad';
      status.textContent = e instanceof Error ? e.message : String(e);
    } finally {
      button.disabled = false;
      stop = undefined;
      if (stopButton) stopButton.disabled = true;
    }
  };
  button.addEventListener('click', () => void start());
  status.textContent = crossOriginIsolated ? 'ready' : 'this page needs cross-origin isolation (npm run serve)';
  if (new URLSearchParams(location.search).get('auto') === '1') void start();
  return output;
}
