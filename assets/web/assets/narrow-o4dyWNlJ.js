import{m as r}from"./useMobile-tVUJRezN.js";const a=r("(max-width: 640px)");function t(){return a}export{t as u};
