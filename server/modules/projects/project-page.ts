// A deployed project's page: one self-contained HTML file listing the project, its features and
// what each agent generated (the deploy job, project-deploy.ts, stores it as the bundle's index).

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );

/** A self-contained page: the project, its features and what each agent generated. */
export function renderBundleIndex(
  project: { name: string; description: string | null; template: string; features: string[] },
  outputs: { agentType: string; code: string; file: string }[],
) {
  const sections = outputs
    .map(
      (o) =>
        `<section><h2>${escapeHtml(o.agentType)}</h2><p><a href="${escapeHtml(o.file)}">${escapeHtml(o.agentType)}.txt</a></p><pre>${escapeHtml(o.code)}</pre></section>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(project.name)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:960px;margin:2rem auto;padding:0 1rem;color:#0f172a}pre{background:#0f172a;color:#e2e8f0;padding:1rem;border-radius:8px;overflow:auto;font-size:13px}li{margin:.2rem 0}</style>
</head><body>
<h1>${escapeHtml(project.name)}</h1>
<p>${escapeHtml(project.description ?? `A ${project.template} app built with Forgeline.`)}</p>
<h2>Features</h2><ul>${project.features.map((f) => `<li>${escapeHtml(f)}</li>`).join('')}</ul>
${sections || '<p>No generated code yet.</p>'}
</body></html>`;
}
