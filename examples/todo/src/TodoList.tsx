/** The list screen: add a todo, and the live list below. */
import { useQuery } from '@ferry/react-native';
import { useState } from 'react';
import { FlatList, Text, TextInput, View } from 'react-native';
import { Button } from './Button';
import { useSession } from './SessionContext';
import type { Todo } from './session';
import { TodoRow } from './TodoRow';
import { shared } from './theme';

/** Add field plus every todo of the signed-in user, as this device holds them. */
export function TodoList() {
  const { todos } = useSession();
  // A live query: re-runs after every committed write to todos, local or synced in.
  const { data: items, loading } = useQuery<Todo>('todos', { orderBy: 'order' });
  const [title, setTitle] = useState('');
  const add = () => {
    const trimmed = title.trim();
    if (!trimmed) return;
    setTitle('');
    void todos.insert({ title: trimmed, completed: false, order: Date.now() });
  };
  const open = items.filter((todo) => !todo.completed).length;
  return (
    <View style={shared.card}>
      <View style={shared.row}>
        <TextInput
          testID="new-todo-input"
          aria-label="New todo"
          placeholder="What needs doing?"
          style={shared.input}
          value={title}
          onChangeText={setTitle}
          onSubmitEditing={add}
        />
        <Button testID="add-todo" label="Add" onPress={add} disabled={!title.trim()} />
      </View>
      <Text testID="todo-count" style={[shared.label, { marginTop: 8 }]}>
        {loading ? 'Loading…' : `${items.length} todos, ${open} open`}
      </Text>
      <FlatList
        testID="todo-list"
        data={items}
        keyExtractor={(todo) => todo.id}
        renderItem={({ item }) => <TodoRow todo={item} />}
        ListEmptyComponent={<Text style={shared.empty}>Nothing to do. Add a todo above.</Text>}
      />
    </View>
  );
}
