import type { MemberState } from '../lib/types';

export function MemberBadge({ id, member }: { id: string; member: MemberState }) {
  return (
    <span className={`badge member-${member}`} data-testid={`member-state-${id}`} data-state={member}>
      {member}
    </span>
  );
}

export function StateBadge({ state, testId }: { state: string; testId?: string }) {
  return (
    <span className={`badge st-${state}`} data-testid={testId} data-state={state}>
      {state}
    </span>
  );
}
