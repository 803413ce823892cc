import type { SyncManager, SyncProgressState } from '@ferry/client';
import { useEffect, useRef } from 'react';
import { ActivityIndicator, Animated, type StyleProp, StyleSheet, Text, View, type ViewStyle } from 'react-native';
import { useSyncProgress } from '../hooks/useSyncState.ts';

/** Props of {@link SyncProgress}. */
export interface SyncProgressProps {
  syncManager: SyncManager;
  /** Show the bar and the current item under the status line. Default true. */
  showDetails?: boolean;
  style?: StyleProp<ViewStyle>;
}

/** Status colours: blue while working, green when done, red on failure. */
export const SYNC_PROGRESS_COLORS = { working: '#2196F3', complete: '#4CAF50', error: '#F44336' } as const;

/** The status line for a progress state (exported for apps that draw their own). */
export function syncStatusText(progress: SyncProgressState): string {
  switch (progress.phase) {
    case 'idle':
      return 'Ready to sync';
    case 'preparing':
      return 'Preparing sync...';
    case 'uploading':
      return `Uploading (${progress.processedItems}/${progress.totalItems})`;
    case 'downloading':
      return `Downloading (${progress.processedItems}/${progress.totalItems})`;
    case 'complete':
      return 'Sync complete';
    case 'error':
      return `Sync failed: ${progress.error ?? 'unknown error'}`;
  }
}

const colorOf = (progress: SyncProgressState) =>
  progress.phase === 'complete'
    ? SYNC_PROGRESS_COLORS.complete
    : progress.phase === 'error'
      ? SYNC_PROGRESS_COLORS.error
      : SYNC_PROGRESS_COLORS.working;

const fractionOf = (progress: SyncProgressState) =>
  progress.totalItems > 0 ? Math.min(1, progress.processedItems / progress.totalItems) : 0;

/**
 * A sync progress panel: status line with a spinner, an animated bar, counts and
 * the item being sent. Renders nothing while idle. The bar is an accessible progress bar
 * (`accessibilityRole="progressbar"`, value 0–100), so screen readers announce it.
 *
 * @example
 * <SyncProgress syncManager={sync.syncManager} showDetails />
 */
export function SyncProgress({ syncManager, showDetails = true, style }: SyncProgressProps) {
  const progress = useSyncProgress(syncManager);
  const fraction = fractionOf(progress);
  const animated = useRef(new Animated.Value(fraction)).current;

  useEffect(() => {
    // Width is a layout property, which the native driver cannot animate.
    const animation = Animated.timing(animated, { toValue: fraction, duration: 300, useNativeDriver: false });
    animation.start();
    return () => animation.stop();
  }, [animated, fraction]);

  if (progress.phase === 'idle') return null;
  const color = colorOf(progress);
  const working = progress.phase !== 'complete' && progress.phase !== 'error';

  return (
    <View style={[styles.container, style]} testID="sync-progress">
      <View style={styles.header}>
        {working && <ActivityIndicator size="small" color={color} />}
        <Text style={[styles.statusText, { color }]}>{syncStatusText(progress)}</Text>
      </View>
      {showDetails && progress.totalItems > 0 && (
        <>
          <View
            style={styles.track}
            accessible
            accessibilityRole="progressbar"
            accessibilityLabel="Sync progress"
            accessibilityValue={{ min: 0, max: 100, now: Math.round(fraction * 100) }}
          >
            <Animated.View
              testID="sync-progress-bar"
              style={[
                styles.bar,
                {
                  backgroundColor: color,
                  width: animated.interpolate({ inputRange: [0, 1], outputRange: ['0%', '100%'] }),
                },
              ]}
            />
          </View>
          {progress.currentItem !== undefined && (
            <Text style={styles.currentItem} numberOfLines={1}>
              {progress.currentItem}
            </Text>
          )}
        </>
      )}
    </View>
  );
}

const styles = StyleSheet.create({
  container: { padding: 16, backgroundColor: '#f5f5f5', borderRadius: 8, margin: 16 },
  header: { flexDirection: 'row', alignItems: 'center', marginBottom: 8 },
  statusText: { fontSize: 14, fontWeight: '600', marginLeft: 8 },
  track: { height: 4, backgroundColor: '#e0e0e0', borderRadius: 2, overflow: 'hidden' },
  bar: { height: '100%', borderRadius: 2 },
  currentItem: { fontSize: 12, color: '#666', marginTop: 8 },
});
