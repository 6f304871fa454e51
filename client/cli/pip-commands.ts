// Placeholder: the pip-facing commands (fetch, install, proxy) are registered here.
import type { CommandModule } from 'yargs';

export const pipCommands: CommandModule[] = [];
