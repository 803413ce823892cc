/** Colours and shared styles of the demo. */
import { StyleSheet } from 'react-native';

/** The palette. */
export const colors = {
  background: '#f4f5f7',
  card: '#ffffff',
  border: '#dde1e6',
  text: '#1d2433',
  muted: '#6b7385',
  accent: '#2f6feb',
  online: '#1f9d55',
  offline: '#c2410c',
  danger: '#c53030',
  warning: '#b7791f',
} as const;

/** Styles used by several components. */
export const shared = StyleSheet.create({
  card: {
    backgroundColor: colors.card,
    borderColor: colors.border,
    borderWidth: 1,
    borderRadius: 8,
    padding: 12,
    marginBottom: 12,
  },
  row: { flexDirection: 'row', alignItems: 'center', gap: 8 },
  title: { fontSize: 18, fontWeight: '600', color: colors.text },
  label: { fontSize: 13, color: colors.muted },
  text: { fontSize: 15, color: colors.text },
  input: {
    flex: 1,
    borderColor: colors.border,
    borderWidth: 1,
    borderRadius: 6,
    paddingHorizontal: 10,
    paddingVertical: 8,
    fontSize: 15,
    color: colors.text,
    backgroundColor: colors.card,
  },
  button: { backgroundColor: colors.accent, borderRadius: 6, paddingHorizontal: 12, paddingVertical: 8 },
  buttonText: { color: '#ffffff', fontWeight: '600', fontSize: 14 },
  secondaryButton: {
    borderColor: colors.border,
    borderWidth: 1,
    borderRadius: 6,
    paddingHorizontal: 10,
    paddingVertical: 6,
  },
  secondaryButtonText: { color: colors.text, fontSize: 13 },
  empty: { color: colors.muted, fontStyle: 'italic', paddingVertical: 8 },
});
