import { createDataFrame, FieldType, type DataFrame } from '@grafana/data';
import type { MdsoErrorRecord, MdsoIssue } from '@correlation-station/api-schema';

interface Annotation {
  time: number;
  title: string;
  text: string;
  tags: string[];
}

/** Frames Grafana's standard annotation processing reads: `time`, `title`, `text`, `tags`. */
function annotationFrame(refId: string, annotations: Annotation[]): DataFrame {
  return createDataFrame({
    refId,
    fields: [
      { name: 'time', type: FieldType.time, values: annotations.map((a) => a.time) },
      { name: 'title', type: FieldType.string, values: annotations.map((a) => a.title) },
      { name: 'text', type: FieldType.string, values: annotations.map((a) => a.text) },
      { name: 'tags', type: FieldType.other, values: annotations.map((a) => a.tags) },
    ],
  });
}

function present(values: Array<string | null>): string[] {
  return values.filter((v): v is string => Boolean(v));
}

/** One annotation per MDSO failure. */
export function failureAnnotationsFrame(refId: string, errors: MdsoErrorRecord[]): DataFrame {
  return annotationFrame(
    refId,
    errors.map((e) => ({
      time: e.occurredAtMs,
      title: `${e.product} failed: ${e.defectCode ?? 'uncategorized'}${e.defectTitle ? ` (${e.defectTitle})` : ''}`,
      text: e.circuitId ? `${e.text}\nCircuit ${e.circuitId}` : e.text,
      tags: present([
        'mdso',
        e.product,
        e.defectCode ?? 'uncategorized',
        e.system,
        e.circuitId ? `circuit:${e.circuitId}` : null,
      ]),
    }))
  );
}

/**
 * New issues at their first sighting and regressed issues at their state change, within the range
 * (the issues route has no time filter).
 */
export function issueAnnotationsFrame(
  refId: string,
  issues: MdsoIssue[],
  range: { from: number; to: number }
): DataFrame {
  const annotations: Annotation[] = [];
  for (const issue of issues) {
    const regressed = issue.state === 'regressed';
    if (!regressed && issue.state !== 'new') {
      continue;
    }
    const time = regressed ? issue.stateChangedMs : issue.firstSeenMs;
    if (time < range.from || time > range.to) {
      continue;
    }
    annotations.push({
      time,
      title: `${regressed ? 'Regressed' : 'New'} issue: ${issue.title}`,
      text: `${issue.defectCode ?? 'uncategorized'} · ${issue.product} · ${issue.count} errors on ${issue.circuitCount} circuits`,
      tags: present(['mdso', issue.state, issue.product, issue.defectCode ?? 'uncategorized']),
    });
  }
  annotations.sort((a, b) => a.time - b.time);
  return annotationFrame(refId, annotations);
}
