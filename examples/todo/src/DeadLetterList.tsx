/** Changes the server rejected for good: inspect, send again, or discard. */
import { useDeadLetters } from '@ferry/react-native';
import { StyleSheet, Text, View } from 'react-native';
import { Button } from './Button';
import { useSession } from './SessionContext';
import { colors, shared } from './theme';

/** The dead-letter tab. */
export function DeadLetterList() {
  const { deadLetters, retry, discard } = useDeadLetters();
  const { sync } = useSession();
  // `order` is declared a number in the schema, so `todos.insert` refuses a string on the device.
  // The raw change tracker does not check (think of an older build of the app): the server
  // refuses the change for good, and it lands here.
  const saveRefusedTodo = () =>
    void sync.changeTracker.trackChange('todos', `refused-${Date.now()}`, 'CREATE', {
      title: 'Refused by the server',
      completed: false,
      order: 'soon',
    });
  return (
    <View style={shared.card} testID="dead-letters">
      <Text style={shared.title}>Dead letters</Text>
      <Text style={[shared.label, { marginBottom: 8 }]}>
        A change the server can never accept lands here instead of blocking the queue.
      </Text>
      {deadLetters.length === 0 ? <Text style={shared.empty}>No dead letters.</Text> : null}
      <View style={[shared.row, { marginBottom: 8 }]}>
        <Button
          testID="save-refused-todo"
          label="Try it: save a todo the server will refuse"
          variant="secondary"
          onPress={saveRefusedTodo}
        />
      </View>
      {deadLetters.map(({ change, error, failedAt }) => (
        <View key={change.id} testID={`dead-letter-${change.id}`} style={styles.item}>
          <Text style={shared.text}>
            {change.operation} {change.entityType} {change.entityId}
          </Text>
          <Text style={[shared.label, { color: colors.danger }]}>
            {error.code}: {error.message}
          </Text>
          <Text style={shared.label}>
            {new Date(failedAt).toLocaleString()} · {JSON.stringify(change.data)}
          </Text>
          <View style={[shared.row, { marginTop: 6 }]}>
            <Button
              testID={`dead-letter-retry-${change.id}`}
              label="Send again"
              variant="secondary"
              onPress={() => void retry(change.id)}
            />
            <Button
              testID={`dead-letter-discard-${change.id}`}
              label="Discard"
              variant="secondary"
              onPress={() => void discard(change.id)}
            />
          </View>
        </View>
      ))}
    </View>
  );
}

const styles = StyleSheet.create({
  item: { paddingVertical: 8, borderBottomColor: colors.border, borderBottomWidth: 1 },
});
