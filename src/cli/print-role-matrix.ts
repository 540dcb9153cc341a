/** `npm run docs:roles`: prints the role matrix as the Markdown table the README holds. */
import { renderRoleMatrix } from '../common/auth/role-matrix.js';

console.log(renderRoleMatrix());
