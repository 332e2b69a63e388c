/**
 * `npm run admin -- <noun> …`: operator commands, one file per noun in admin/commands/. Minimal dispatcher;
 * helper 5's fuller CLI (tenant, key, quota) registers its nouns in the same table.
 */
import { runDomainCommand } from "./commands/domain";

const commands: Record<string, (args: string[]) => Promise<number>> = {
  domain: (args) => runDomainCommand(args),
};

const [noun, ...args] = process.argv.slice(2);
const command = noun ? commands[noun] : undefined;
if (!command) {
  console.error(`usage: npm run admin -- <${Object.keys(commands).join("|")}> …`);
  process.exit(2);
}
process.exit(await command(args));
