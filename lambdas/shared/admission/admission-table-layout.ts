/**
 * The admission table's layout, shared by its adapter, the construct that creates the table and
 * the local runner that creates it offline: names only, no SDK.
 */

/** The table's key: a partition (`queue` or `gate`) and a sort key within it. */
export const ADMISSION_TABLE_KEY = { partition: 'pk', sort: 'sk' } as const;
/** The attribute DynamoDB's TTL reads (epoch seconds): expired tickets are deleted by DynamoDB itself. */
export const ADMISSION_TTL_ATTRIBUTE = 'expiresAt';
