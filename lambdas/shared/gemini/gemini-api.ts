/**
 * Where Google's Gemini API is, as constants with no dependency: the adapter uses them, and so do
 * the local runner and the live check, which must not load the SDKs just to know the address.
 */

/** Google's Gemini API: where the adapter goes unless given another base URL. */
export const GEMINI_API_URL = 'https://generativelanguage.googleapis.com';

/** Google documents the Files and Batch APIs under v1beta; SDK 3.x would default to v1. */
export const GEMINI_API_VERSION = 'v1beta';
