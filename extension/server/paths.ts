/**
 * File identity for the server: runs report absolute paths (`SourceSite.file`), the editor speaks
 * `file://` URIs. Both are reduced to one key so a site and a document meet.
 */
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** The key of an absolute path: normalised, and case-folded where the file system ignores case. */
export function fileKey(file: string, platform: NodeJS.Platform = process.platform): string {
  const p = platform === "win32" ? path.win32.normalize(file) : path.posix.normalize(file);
  return platform === "win32" ? p.toLowerCase() : p;
}

/** The path of a `file://` URI, or undefined for other schemes or malformed URIs. */
export function uriToPath(uri: string): string | undefined {
  if (!/^file:/i.test(uri)) return undefined;
  try {
    return fileURLToPath(uri);
  } catch {
    return undefined;
  }
}

/** A `file://` URI for an absolute path (for files that are not open in the editor). */
export function pathToUri(file: string): string {
  return pathToFileURL(file).href;
}
