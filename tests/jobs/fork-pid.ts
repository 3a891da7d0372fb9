// Fork continuation that writes its process's pid to data.out and exports no
// `recycle`: its carrier is never recycled (docs/FORK.md, "Recycled children").
import { writeFileSync } from 'node:fs';

export default function reportPid({ data }: { data: { out: string } }): number {
  writeFileSync(data.out, JSON.stringify({ pid: process.pid }));
  return 0;
}
