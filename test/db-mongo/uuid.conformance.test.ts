import { describeAdapterConformance } from "@tessera/core/testing";
import { ObjectId } from "mongodb";
import * as vitest from "vitest";
import { mongoFixture } from "./fixture.js";

describeAdapterConformance(
  mongoFixture("uuid", {
    unknownId: "00000000-0000-4000-8000-000000000000",
    malformedIds: [
      "not-a-uuid",
      "",
      "00000000-0000-4000-8000-00000000000g",
      "00000000000040008000000000000000", // no dashes
      " 00000000-0000-4000-8000-000000000000",
      { $ne: null },
      { $regex: ".*" },
      ["00000000-0000-4000-8000-000000000000"],
      new ObjectId(),
      42,
      null,
      "a".repeat(100_000),
    ],
  }),
  vitest,
);
