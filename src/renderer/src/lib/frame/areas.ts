/**
 * The areas of the left navigation. Only areas that work are listed: later issues add
 * Annotate, Experiments and Compare here, never as disabled placeholders.
 */
export type AreaId = 'overview' | 'library' | 'runs' | 'benchmarks';

export interface Area {
  id: AreaId;
  label: string;
  /** SVG path data (24×24 viewBox) for the nav icon. */
  icon: string;
}

export const AREAS: readonly Area[] = [
  {
    id: 'overview',
    label: 'Overview',
    icon: 'M4 4h7v7H4zM13 4h7v4h-7zM13 10h7v10h-7zM4 13h7v7H4z',
  },
  {
    id: 'library',
    label: 'Library',
    icon: 'M3 3h5v5H3zM9.5 3h5v5h-5zM16 3h5v5h-5zM3 9.5h5v5H3zM9.5 9.5h5v5h-5zM16 9.5h5v5h-5zM3 16h5v5H3zM9.5 16h5v5h-5zM16 16h5v5h-5z',
  },
  {
    id: 'runs',
    label: 'Runs',
    icon: 'M4 5h16v2H4zM4 11h10v2H4zM4 17h6v2H4zM16 10l6 3-6 3z',
  },
  {
    id: 'benchmarks',
    label: 'Benchmarks',
    icon: 'M3 3h4v4H3zM10 3h4v4h-4zM17 3h4v4h-4zM3 10h4v4H3zM10 10h4v4h-4zM17 10h4v4h-4zM3 17h18v4H3z',
  },
];
