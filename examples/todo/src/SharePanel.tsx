/**
 * The sharing card of a shared list: who is in it with which role, and what the signed-in user
 * may do about it. An owner adds the other demo users as editor or viewer and removes them;
 * anyone else may leave. A viewer is told the list is read-only, and may force an edit anyway
 * to watch the server refuse it (`FORBIDDEN`) into the dead letters.
 */
import type { Role, SpaceInfo, SpaceMember } from '@ferry/client';
import { useSyncSystem } from '@ferry/react-native';
import { useEffect, useState } from 'react';
import { StyleSheet, Text, View } from 'react-native';
import { Button } from './Button';
import { useSession } from './SessionContext';
import { DEMO_USERS } from './session';
import { colors, shared } from './theme';

const ROLE_TEXT: Record<Role, string> = {
  owner: 'You own this list: you can edit it and choose who shares it.',
  editor: 'You are an editor: you can add, edit and delete todos here.',
  viewer: 'You are a viewer: you can read this list, not change it.',
};

/** The members of `space` as this device holds them, kept up to date. */
function useMembers(space: string): SpaceMember[] {
  const sync = useSyncSystem();
  const [members, setMembers] = useState<SpaceMember[]>([]);
  useEffect(() => {
    let active = true;
    const load = () =>
      void sync.spaces.members(space).then(
        (next) => active && setMembers(next),
        () => undefined,
      );
    // Members are `$member` records of the space: a grant or removal, local or synced in, is a write of one.
    const stop = sync.localStore.subscribe((event) => {
      if (event.entityTypes.has('$member')) load();
    });
    load();
    return () => {
      active = false;
      stop();
    };
  }, [sync, space]);
  return members;
}

/** The sharing card; `space` is the list shown. */
export function SharePanel({ space }: { space: SpaceInfo }) {
  const { userId, sync, todos } = useSession();
  const members = useMembers(space.id);
  const [forced, setForced] = useState(false);
  const isOwner = space.role === 'owner';
  const invitable = DEMO_USERS.filter((user) => user !== userId && !members.some((m) => m.userId === user));

  const forceEdit = async () => {
    // What a buggy or tampered client could do: write despite the role. The device applies it
    // locally, the server refuses it per change, and the device puts the server's copy back.
    const [first] = await todos.find({ space: space.id, limit: 1 });
    if (!first) return;
    await todos.update(first.id, { title: `${first.title} (edited by ${userId})` });
    setForced(true);
  };

  return (
    <View style={shared.card} testID="share-panel">
      <Text style={shared.title}>Shared list “{space.name}”</Text>
      <Text testID="my-role" style={[shared.text, { marginTop: 4 }]}>
        {ROLE_TEXT[space.role]}
      </Text>
      {space.role === 'viewer' ? (
        <View testID="read-only-notice" style={styles.notice}>
          <Text style={shared.label}>
            Read-only: the app disables editing here, and the server refuses a viewer's write even if one is sent
            (FORBIDDEN); such a write lands in Dead letters, never silently lost.
          </Text>
          <View style={[shared.row, { marginTop: 6 }]}>
            <Button
              testID="force-edit"
              label="Try it: send an edit anyway"
              variant="secondary"
              onPress={() => void forceEdit()}
            />
          </View>
          {forced ? (
            <Text testID="force-edit-sent" style={[shared.label, { marginTop: 4 }]}>
              Sent. Watch the Dead letters tab: the server's copy of the todo comes back here.
            </Text>
          ) : null}
        </View>
      ) : null}
      <Text style={[shared.label, { marginTop: 10 }]}>Members</Text>
      {members.map((member) => (
        <View key={member.userId} testID={`member-${member.userId}`} style={[shared.row, styles.member]}>
          <Text testID="member-label" style={[shared.text, { flex: 1 }]}>
            {member.userId}
            {member.userId === userId ? ' (you)' : ''} · {member.role}
          </Text>
          {isOwner && member.userId !== userId ? (
            <Button
              testID={`remove-member-${member.userId}`}
              label="Remove"
              variant="secondary"
              onPress={() => void sync.spaces.removeMember(space.id, member.userId)}
            />
          ) : null}
        </View>
      ))}
      {isOwner && invitable.length > 0 ? (
        <View style={{ marginTop: 8 }}>
          <Text style={shared.label}>Share with another demo user (they see it after their next sync):</Text>
          {invitable.map((user) => (
            <View key={user} style={[shared.row, { marginTop: 6 }]}>
              <Text style={[shared.text, { width: 60 }]}>{user}</Text>
              {(['editor', 'viewer'] as const).map((role) => (
                <Button
                  key={role}
                  testID={`add-member-${user}-${role}`}
                  label={`Add as ${role}`}
                  variant="secondary"
                  onPress={() => void sync.spaces.addMember(space.id, user, role)}
                />
              ))}
            </View>
          ))}
        </View>
      ) : null}
      {!isOwner ? (
        <View style={[shared.row, { marginTop: 10 }]}>
          <Button
            testID="leave-list"
            label="Leave this list"
            variant="secondary"
            onPress={() => void sync.spaces.leave(space.id)}
          />
        </View>
      ) : null}
    </View>
  );
}

const styles = StyleSheet.create({
  notice: {
    marginTop: 8,
    padding: 8,
    borderRadius: 6,
    backgroundColor: '#fdf6e3',
    borderColor: colors.warning,
    borderWidth: 1,
  },
  member: { paddingVertical: 4 },
});
