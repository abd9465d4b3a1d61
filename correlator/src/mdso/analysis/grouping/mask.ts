// Masks the volatile parts of an error text so that failures differing only in device, circuit,
// address or time share one template. Order matters: wider shapes (circuit ids, FQDNs, timestamps)
// are masked before the numbers inside them would be. These are fixed, simple patterns of our own,
// so the JS engine is safe here; user-supplied patterns go through RE2 instead.

const MASKS: ReadonlyArray<readonly [RegExp, string]> = [
  [/plan-script-[0-9a-fA-F-]{36}-[A-Za-z_]+-\S+/g, '<LOGFILE>'],
  [/\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b/g, '<UUID>'],
  [/\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?/g, '<TS>'],
  [/\b\d{2}:\d{2}:\d{2}\b/g, '<TS>'],
  [/\b\d{2}\.[A-Z0-9]{4}\.\d{6}\.\.(?:CHTR|TWCC)\b/gi, '<CIRCUIT>'],
  [/\b[\w-]+(?:\.[\w-]+)*\.CHTRSE\.COM\b/gi, '<FQDN>'],
  [/\b(?:\d{1,3}\.){3}\d{1,3}(?:\/\d{1,2})?\b/g, '<IP>'],
  [/\b(?:[0-9a-fA-F]{2}[:.-]){5}[0-9a-fA-F]{2}\b/g, '<MAC>'],
  [/\b[0-9a-fA-F]{1,4}(?::[0-9a-fA-F]{0,4}){2,7}(?:\/\d{1,3})?/g, '<IP>'],
  [/\b(?:ge|xe|et|fe|ae|gi|te)-?\d+(?:\/\d+)*(?:\.\d+)?\b/gi, '<PORT>'],
  [/\b(?:(?:Ten|Forty|Hundred)?Gig(?:abit)?E(?:thernet)?|FastEthernet|Bundle-Ether|Port-channel)\d+(?:\/\d+)*(?:\.\d+)?/gi, '<PORT>'],
  [/\b(?:ETHERNET|ACCESS|LAG)[-_]?[\w/.-]*\d[\w/.-]*/gi, '<PORT>'],
  [/\b[A-Z0-9]{10}W\b/g, '<TID>'],
  [/\bvlan[\s:=_-]*\d+\b/gi, 'vlan <NUM>'],
  [/\b[0-9a-fA-F]{16,}\b/g, '<HEX>'],
  [/\b\d+(?:\.\d+)?\b/g, '<NUM>'],
];

const PLACEHOLDER = /<(?:LOGFILE|UUID|TS|CIRCUIT|FQDN|IP|MAC|PORT|TID|HEX|NUM|\*)>/;

export function maskVolatile(text: string): string {
  let out = text;
  for (const [re, repl] of MASKS) out = out.replace(re, repl);
  return out.replace(/\s+/g, ' ').trim();
}

export function isPlaceholder(token: string): boolean {
  return token.length > 2 && PLACEHOLDER.test(token) && token.replace(new RegExp(PLACEHOLDER.source, 'g'), '') === '';
}

export const PLACEHOLDER_SOURCE = PLACEHOLDER.source;
