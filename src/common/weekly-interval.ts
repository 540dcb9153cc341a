/** A recurring interval in a clinic's local time: ISO weekday (1 = Monday … 7 = Sunday), "HH:mm" to "HH:mm". */
export interface WeeklyInterval {
  weekday: number;
  start: string;
  end: string;
}

/** Intervals as clients wrote them — weekday, start, end — whatever order jsonb keeps keys in. */
export const presentIntervals = (list: WeeklyInterval[]): WeeklyInterval[] =>
  list.map(({ weekday, start, end }) => ({ weekday, start, end }));
