/** The roles an API key carries; the role matrix and `@Roles` speak in them. */
export const API_ROLES = ['front_desk', 'clinician', 'admin'] as const;
export type ApiRole = (typeof API_ROLES)[number];
