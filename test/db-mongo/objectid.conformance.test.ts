import { describeAdapterConformance } from "@tessera/core/testing";
import { ObjectId } from "mongodb";
import * as vitest from "vitest";
import { mongoFixture } from "./fixture.js";

describeAdapterConformance(
  mongoFixture("objectId", {
    unknownId: new ObjectId().toHexString(),
    malformedIds: [
      "not-an-object-id",
      "",
      "zzzzzzzzzzzzzzzzzzzzzzzz", // 24 characters, not hex
      "abcdefghijkl", // 12 bytes: `new ObjectId()` alone would accept it
      `${new ObjectId().toHexString()} `,
      { $ne: null },
      { $gt: "" },
      [new ObjectId().toHexString()],
      new ObjectId(), // an ObjectId object where the string form is expected
      42,
      null,
      "f".repeat(100_000),
    ],
  }),
  vitest,
);
