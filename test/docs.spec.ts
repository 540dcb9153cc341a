import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

// ---------------------------------------------------------------------------------------------
// Issue 14, items 20-21: the README starts with the two commands that work, and every relative
// link in the README and docs/ points at a file of this repository (the contract used to be
// linked at ../shared/SPEC.md, outside it, broken in every clone).
// ---------------------------------------------------------------------------------------------

const ROOT = process.cwd();
const markdown = [
  'README.md',
  ...readdirSync(path.join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

describe('README and docs', () => {
  it('open with the two commands', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const first = /```bash\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    expect(
      first
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('#')[0].trim()),
    ).toEqual(['npm ci && npm start', 'npm test']);
    expect(readme.indexOf('```bash')).toBeLessThan(readme.indexOf('\n## '));
  });

  it('keep the contract inside the repository', () => {
    expect(existsSync(path.join(ROOT, 'docs', 'SPEC.md'))).toBe(true);
    expect(readFileSync(path.join(ROOT, 'README.md'), 'utf8')).toContain('](docs/SPEC.md)');
  });

  it.each(markdown)('%s links only to files that exist', (file) => {
    const text = readFileSync(path.join(ROOT, file), 'utf8').replace(/```[\s\S]*?```/g, '');
    const broken = [...text.matchAll(/\]\(([^)\s]+)\)/g)]
      .map((m) => m[1])
      .filter((href) => !/^[a-z]+:/i.test(href) && !href.startsWith('#'))
      .map((href) => href.split('#')[0])
      .filter((href) => !existsSync(path.resolve(path.dirname(path.join(ROOT, file)), href)));
    expect({ file, broken }).toEqual({ file, broken: [] });
  });

  it('name the same npm scripts that package.json has', () => {
    const scripts = Object.keys(JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts);
    const text = markdown.map((f) => readFileSync(path.join(ROOT, f), 'utf8')).join('\n');
    const named = [...new Set([...text.matchAll(/npm run (?:-s )?([a-z:]+)/g)].map((m) => m[1]))];
    expect(named.filter((s) => !scripts.includes(s))).toEqual([]);
  });
});
