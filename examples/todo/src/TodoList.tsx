/** The list screen: add a todo (with an optional due date), filter, sort, and the live list below. */
import type { FindOptions } from '@ferry/client';
import { useQuery } from '@ferry/react-native';
import { useState } from 'react';
import { FlatList, StyleSheet, Text, TextInput, View } from 'react-native';
import { Button } from './Button';
import { Chip } from './Chip';
import { useSession } from './SessionContext';
import type { Todo } from './schema';
import { TodoRow } from './TodoRow';
import { shared } from './theme';

const DAY_MS = 24 * 60 * 60 * 1000;
const HOUR_MS = 60 * 60 * 1000;

type FilterKey = 'all' | 'open' | 'done' | 'due-soon';
type SortKey = 'order' | 'due';

/** Due-date choices for a new todo, cycled by one button. */
const DUE_CHOICES = [
  { label: 'No due date', days: null },
  { label: 'Due tomorrow', days: 1 },
  { label: 'Due next week', days: 7 },
] as const;

/**
 * The filters, as query filters run in SQLite on the schema's indexes. "Due soon" means
 * within three days (overdue included); its bound moves by the hour, so the query (keyed by
 * value) stays the same between renders.
 */
function filters(now: number): Record<FilterKey, FindOptions<Todo>['where']> {
  const soon = Math.ceil(now / HOUR_MS) * HOUR_MS + 3 * DAY_MS;
  return {
    all: {},
    open: { completed: { ne: true } },
    done: { completed: true },
    'due-soon': { completed: { ne: true }, dueAt: { lte: soon } },
  };
}

/** Two sort keys each: open before done then the order added, or the due date (undated last) then the title. */
const SORTS: Record<SortKey, FindOptions<Todo>['orderBy']> = {
  order: ['completed', 'order'],
  due: [{ field: 'dueAt', nulls: 'last' }, 'title'],
};

/** Props of {@link TodoList}. */
export interface TodoListProps {
  /** The list shown: a shared space id, or null for the user's private todos. */
  space: string | null;
  /** True for a viewer: nothing on screen can change the list. */
  readOnly: boolean;
}

/**
 * Add field, filter and sort bar with live counts, and the todos of one list (the private one
 * or a shared one) as this device holds them.
 */
export function TodoList({ space, readOnly }: TodoListProps) {
  const { todos } = useSession();
  const [title, setTitle] = useState('');
  const [due, setDue] = useState(0);
  const [filter, setFilter] = useState<FilterKey>('all');
  const [sort, setSort] = useState<SortKey>('order');
  const where = filters(Date.now());
  // Live queries: each re-runs after a committed write to todos (local or synced in) and
  // re-renders only when its result changed.
  const { data: items = [], loading } = useQuery(todos.query({ where: where[filter], orderBy: SORTS[sort], space }));
  const counts: Record<FilterKey, number | undefined> = {
    all: useQuery(todos.countQuery(where.all, { space })).data,
    open: useQuery(todos.countQuery(where.open, { space })).data,
    done: useQuery(todos.countQuery(where.done, { space })).data,
    'due-soon': useQuery(todos.countQuery(where['due-soon'], { space })).data,
  };
  const add = () => {
    const trimmed = title.trim();
    if (!trimmed || readOnly) return;
    const days = DUE_CHOICES[due]?.days ?? null;
    setTitle('');
    setDue(0);
    void todos.insert(
      {
        title: trimmed,
        completed: false,
        order: Date.now(),
        ...(days === null ? {} : { dueAt: Date.now() + days * DAY_MS }),
      },
      { space },
    );
  };
  return (
    <View style={shared.card}>
      <View style={shared.row}>
        <TextInput
          testID="new-todo-input"
          aria-label="New todo"
          placeholder={readOnly ? 'Read-only: you are a viewer of this list' : 'What needs doing?'}
          editable={!readOnly}
          style={shared.input}
          value={title}
          onChangeText={setTitle}
          onSubmitEditing={add}
        />
        <Button
          testID="new-todo-due"
          label={DUE_CHOICES[due]?.label ?? ''}
          variant="secondary"
          onPress={() => setDue((due + 1) % DUE_CHOICES.length)}
          disabled={readOnly}
        />
        <Button testID="add-todo" label="Add" onPress={add} disabled={readOnly || !title.trim()} />
      </View>
      <View style={[shared.row, styles.bar]} role="tablist" aria-label="Filter">
        {(
          [
            ['all', 'All'],
            ['open', 'Open'],
            ['done', 'Done'],
            ['due-soon', 'Due soon'],
          ] as const
        ).map(([key, label]) => (
          <Chip
            key={key}
            testID={`filter-${key}`}
            label={`${label} (${counts[key] ?? '…'})`}
            active={filter === key}
            onPress={() => setFilter(key)}
          />
        ))}
      </View>
      <View style={[shared.row, styles.bar]} role="tablist" aria-label="Sort">
        <Text style={shared.label}>Sort:</Text>
        <Chip
          testID="sort-order"
          label="Open first, order added"
          active={sort === 'order'}
          onPress={() => setSort('order')}
        />
        <Chip testID="sort-due" label="Due date, title" active={sort === 'due'} onPress={() => setSort('due')} />
      </View>
      <Text testID="todo-count" style={[shared.label, { marginTop: 8 }]}>
        {loading || counts.all === undefined ? 'Loading…' : `${counts.all} todos, ${counts.open ?? 0} open`}
      </Text>
      <FlatList
        testID="todo-list"
        data={items}
        keyExtractor={(todo) => todo.id}
        renderItem={({ item }) => <TodoRow todo={item} readOnly={readOnly} />}
        ListEmptyComponent={
          <Text style={shared.empty}>{filter === 'all' ? 'Nothing to do. Add a todo above.' : 'No todos here.'}</Text>
        }
      />
    </View>
  );
}

const styles = StyleSheet.create({
  bar: { flexWrap: 'wrap', marginTop: 10 },
});
