/** `{name}` placeholders filled from a map (voicemail mail subjects and bodies); unknown names are left as written. */
export function fillTemplate(template: string, values: Readonly<Record<string, string | number | null | undefined>>): string {
  return template.replace(/\{([a-z_]+)\}/g, (whole, name: string) => {
    const v = values[name];
    return v === undefined ? whole : v === null ? '' : String(v);
  });
}
