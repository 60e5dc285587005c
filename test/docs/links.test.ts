import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// The README's comparison table backs each claim with a link to a test or a page; a link
// to a file that does not exist backs nothing. This reads every Markdown page a user
// sees (the READMEs and docs/) and checks that each relative link names a real file or
// folder, and that each `#anchor` into a Markdown page names one of its headings.
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

function markdownFiles(): string[] {
  const files = [join(root, "README.md"), join(root, "SECURITY.md")];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith(".md")) files.push(path);
    }
  };
  walk(join(root, "docs"));
  for (const base of ["packages", "examples"]) {
    for (const name of readdirSync(join(root, base))) {
      const readme = join(root, base, name, "README.md");
      if (existsSync(readme)) files.push(readme);
    }
  }
  return files;
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces as `-`. */
function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  const withoutCode = markdown.replace(/```[\s\S]*?```/g, "");
  for (const match of withoutCode.matchAll(/^#{1,6}\s+(.+?)\s*$/gm)) {
    const text = (match[1] ?? "").replace(/`/g, "").replace(/\[([^\]]*)\]\([^)]*\)/g, "$1");
    out.add(
      text
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, "")
        .replace(/\s/g, "-"),
    );
  }
  return out;
}

function links(markdown: string): string[] {
  const withoutCode = markdown.replace(/```[\s\S]*?```/g, "").replace(/`[^`\n]*`/g, "");
  return [...withoutCode.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1] ?? "");
}

describe("Markdown links", () => {
  const files = markdownFiles();

  it("finds the pages (README, docs/, package READMEs)", () => {
    expect(files.length).toBeGreaterThan(20);
  });

  for (const file of files) {
    it(`every relative link in ${relative(root, file)} resolves`, () => {
      const markdown = readFileSync(file, "utf8");
      const broken: string[] = [];
      for (const link of links(markdown)) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(link)) continue; // http:, https:, mailto:
        const [path = "", anchor] = link.split("#");
        const target = path === "" ? file : resolve(dirname(file), decodeURIComponent(path));
        if (!existsSync(target)) {
          broken.push(`${link} (no such file)`);
          continue;
        }
        if (
          anchor &&
          target.endsWith(".md") &&
          !anchors(readFileSync(target, "utf8")).has(anchor)
        ) {
          broken.push(`${link} (no heading #${anchor})`);
        }
      }
      expect(broken).toEqual([]);
    });
  }
});
