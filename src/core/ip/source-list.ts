/**
 * Whether a list of address sources can work for the watched families and the policy: every
 * family needs a source that can find it (a router push only claims: another source must confirm
 * it), a quorum cannot ask for more votes than there are, and one router push per node at most.
 * Used by public-ip-watch's configuration check.
 */
import { familyLabel, type Family } from '../address';
import { phrase } from '../said';
import { buildSource, type SourceConfig } from './sources';

export interface SourceListIssue {
  path: 'sources' | 'quorum';
  message: string;
}

export function sourceListIssues(
  configs: readonly SourceConfig[],
  families: readonly Family[],
  policy: 'first' | 'quorum',
  quorum: number,
): SourceListIssue[] {
  const issues: SourceListIssue[] = [];
  const pushes = configs.filter((s) => s.type === 'router-push').length;
  if (pushes > 1)
    issues.push({
      path: 'sources',
      message: phrase('ip.pushes', 'the list holds __n__ router pushes; one node has one push endpoint', { n: pushes }),
    });
  for (const f of families) {
    let local = 0;
    let outside = 0;
    for (const s of configs) {
      try {
        const src = buildSource(s);
        if (src.families.includes(f)) {
          if (src.kind === 'local') local++;
          else outside++;
        }
      } catch {
        /* reported when the sources are built */
      }
    }
    const able = local + outside;
    if (able === 0)
      issues.push({
        path: 'sources',
        message: pushes
          ? phrase(
              'ip.no_confirming_source',
              'no source in the list can confirm a pushed __family__ address (the router push needs one beside it: the home router, a network interface or an outside service)',
              { family: familyLabel(f) },
            )
          : phrase('ip.list_no_source', 'no source in the list can find an __family__ address', {
              family: familyLabel(f),
            }),
      });
    else if (policy === 'quorum' && local > 0 && outside > 0 && quorum > outside) {
      // Local answers (router, interface) are confirmed by the outside services; they do not vote.
      issues.push({
        path: 'quorum',
        message: phrase(
          'ip.quorum_outside',
          'quorum __quorum__ is more than the __n__ outside services that can confirm the __family__ address (the router and network interface answers are confirmed by them, they do not vote)',
          { quorum, n: outside, family: familyLabel(f) },
        ),
      });
    } else if (policy === 'quorum' && quorum > able) {
      issues.push({
        path: 'quorum',
        message: phrase(
          'ip.quorum_able',
          'quorum __quorum__ is more than the __n__ sources that can find an __family__ address',
          {
            quorum,
            n: able,
            family: familyLabel(f),
          },
        ),
      });
    }
  }
  return issues;
}
