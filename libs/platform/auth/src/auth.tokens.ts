/** Injection token of the {@link ApiKeyService}. */
export const API_KEY_SERVICE = Symbol('API_KEY_SERVICE');
