// The web app's entry module: each module wires its behaviour through document-level event
// delegation and hydrators; the hydrators run once here and again on appended fragments.
import "./theme-switch.js";
import "./blurhash.js";
import "./feed.js";
import "./post.js";
import "./actions.js";
import "./time.js";
import "./follow.js";
import "./activity.js";
import "./settings.js";
import "./upload.js";
import "./stream.js";
import "./badges.js";
import "./direct.js";
import "./share.js";
import "./story-viewer.js";
import "./story-new.js";
import "./story-quote.js";
import { hydrate } from "./dom.js";

hydrate(document);
