// The resolver every form validates with: the shared zod schemas, speaking the shared plain-words
// messages (installed by importing shared/validation-messages.ts here, so zod stays out of the
// pages that have no form: the landing page loads no validation code).
import '../../../shared/validation-messages.ts';

export { zodResolver } from '@hookform/resolvers/zod';
