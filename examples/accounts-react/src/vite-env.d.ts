/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** Where the Users API runs, e.g. `https://users.example.com`. */
  readonly VITE_USERS_API_URL: string;
  /** The app's id (`sourceAppId`), sent as `x-app-id`. */
  readonly VITE_USERS_API_APP_ID: string;
}

interface ImportMeta {
  readonly env: ImportMetaEnv;
}
