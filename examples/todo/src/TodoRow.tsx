/** One todo: toggle, tap the title to edit it, delete. */
import type { Doc } from '@ferry/client';
import { useState } from 'react';
import { Pressable, StyleSheet, Switch, Text, TextInput, View } from 'react-native';
import { Button } from './Button';
import { useSession } from './SessionContext';
import type { Todo } from './schema';
import { colors, shared } from './theme';

/**
 * A row of the list; every control carries a testID suffixed with the todo's id. `readOnly`
 * (a viewer's list) disables every control.
 */
export function TodoRow({ todo, readOnly = false }: { todo: Doc<Todo>; readOnly?: boolean }) {
  const { todos } = useSession();
  const [draft, setDraft] = useState<string | null>(null);
  const save = () => {
    const title = draft?.trim();
    setDraft(null);
    if (title && title !== todo.title) void todos.update(todo.id, { title });
  };
  const dueLabel = typeof todo.dueAt === 'number' ? dueIn(todo.dueAt) : null;
  return (
    <View testID={`todo-row-${todo.id}`} aria-label={`Todo ${todo.title}`} style={styles.row}>
      <Switch
        testID={`todo-toggle-${todo.id}`}
        aria-label={`Done: ${todo.title}`}
        value={todo.completed === true}
        disabled={readOnly}
        onValueChange={(completed) => void todos.update(todo.id, { completed })}
      />
      {draft === null ? (
        <Pressable
          testID={`todo-title-${todo.id}`}
          role="button"
          style={styles.title}
          disabled={readOnly}
          onPress={() => setDraft(todo.title ?? '')}
        >
          <Text style={[shared.text, todo.completed === true && styles.done]}>{todo.title}</Text>
        </Pressable>
      ) : (
        <>
          <TextInput
            testID="todo-edit-input"
            aria-label="Edit title"
            style={shared.input}
            value={draft}
            onChangeText={setDraft}
            onSubmitEditing={save}
            autoFocus
          />
          <Button testID="todo-save" label="Save" onPress={save} />
        </>
      )}
      {dueLabel !== null && draft === null ? (
        <Text testID={`todo-due-${todo.id}`} style={shared.label}>
          {dueLabel}
        </Text>
      ) : null}
      <Button
        testID={`todo-delete-${todo.id}`}
        label="Delete"
        aria-label={`Delete ${todo.title}`}
        variant="secondary"
        disabled={readOnly}
        onPress={() => void todos.delete(todo.id)}
      />
    </View>
  );
}

/** "due in 2 days", "due today", "overdue" (whole days from now). */
function dueIn(dueAt: number): string {
  const days = Math.round((dueAt - Date.now()) / (24 * 60 * 60 * 1000));
  if (dueAt < Date.now() - 60_000) return 'overdue';
  if (days <= 0) return 'due today';
  return days === 1 ? 'due tomorrow' : `due in ${days} days`;
}

const styles = StyleSheet.create({
  row: {
    flexDirection: 'row',
    alignItems: 'center',
    gap: 10,
    paddingVertical: 8,
    borderBottomColor: colors.border,
    borderBottomWidth: 1,
  },
  title: { flex: 1, paddingVertical: 4 },
  done: { textDecorationLine: 'line-through', color: colors.muted },
});
