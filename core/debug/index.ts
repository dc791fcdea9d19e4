/** The debugger's pure parts: positions, stepping, breakpoints, the expression language, filters, messages. */
export * from "./expr";
export * from "./evaluate";
export * from "./positions";
export * from "./breakpoints";
export * from "./stepping";
export * from "./filters";
export * from "./messages";
