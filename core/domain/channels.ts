/**
 * Channel, provider, send-mode and region names in one place, derived from the schema's Postgres enums
 * (core/db/schema.ts) so a value added to an enum reaches every type that names it. Regions are the messaging
 * contract's (core/contract). Edge-safe: no node:* imports.
 */
import { z } from "zod";
import { CHANNELS as CONTRACT_CHANNELS, REGIONS, Region } from "../contract";
import { channelEnum, providerEnum, sendModeEnum } from "../db/schema";

export const CHANNELS = channelEnum.enumValues;
export type Channel = (typeof CHANNELS)[number];
export const Channel = z.enum(CHANNELS);

export const PROVIDERS = providerEnum.enumValues;
export type Provider = (typeof PROVIDERS)[number];
export const Provider = z.enum(PROVIDERS);

export const SEND_MODES = sendModeEnum.enumValues;
export type SendMode = (typeof SEND_MODES)[number];
export const SendMode = z.enum(SEND_MODES);

export { REGIONS, Region };

/** Providers that send on the platform's accounts through an outside API (the webhook channel calls the customer). */
export type ExternalProvider = Exclude<Provider, "webhook">;

// The contract names channels in subjects; it must list exactly the schema's channels.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const contractChannelsMatch: Same<(typeof CONTRACT_CHANNELS)[number], Channel> = true;
void contractChannelsMatch;
